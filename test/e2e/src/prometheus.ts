// The real `prometheus` binary scraping the stack's services, with deploy/prometheus/alerts.yml loaded as it
// is in production: only the scrape and evaluation intervals are shortened, to see a 2-second outage.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPrometheus as startTestPrometheus, type PromSeries } from '@nightshift/test-helpers';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The production alert rules. */
export const ALERT_RULES = join(REPO_ROOT, 'deploy', 'prometheus', 'alerts.yml');

/** One series of a query answer: its labels and `[seconds, value]` samples. */
export interface Series {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
}

export interface Prometheus {
  readonly url: string;
  /** An instant query now; each series has its one sample in `values`. */
  query(expr: string): Promise<Series[]>;
  /** The raw samples of `selector` over the last `seconds` (a range selector, so nothing is interpolated). */
  samples(selector: string, seconds: number): Promise<Series[]>;
  /** `expr` evaluated every `stepSeconds` from `startMs` to now, as the rule evaluator and Grafana do. */
  queryRange(expr: string, startMs: number, stepSeconds: number): Promise<Series[]>;
  stop(): Promise<void>;
}

export { prometheusInstalled } from '@nightshift/test-helpers';

/** The expression of one alert of deploy/prometheus/alerts.yml (read as text: one `expr:` line per rule there). */
export function alertExpression(alert: string): string {
  const text = readFileSync(ALERT_RULES, 'utf8');
  const match = new RegExp(`- alert: ${alert}\\n\\s+expr: (.+)\\n`).exec(text);
  if (!match?.[1]) throw new Error(`no alert ${alert} with a one-line expr in ${ALERT_RULES}`);
  return match[1].trim();
}

/** Starts Prometheus scraping `jobs` (job name → `host:port` targets) every `intervalMs`, with the production alert rules. */
export async function startPrometheus(jobs: Readonly<Record<string, readonly string[]>>, intervalMs = 500): Promise<Prometheus> {
  const prometheus = await startTestPrometheus({ jobs, ruleFiles: [ALERT_RULES], interval: `${intervalMs}ms` });
  const series = (answer: PromSeries[]): Series[] => answer.map((r) => ({ metric: r.metric, values: r.values ?? (r.value ? [r.value] : []) }));
  return {
    url: prometheus.url,
    query: async (expr) => series(await prometheus.query(expr)),
    samples: async (selector, seconds) => series(await prometheus.query(`${selector}[${Math.ceil(seconds)}s]`, Date.now() / 1000)),
    queryRange: async (expr, startMs, step) => series(await prometheus.queryRange(expr, startMs / 1000, Date.now() / 1000, step)),
    stop: () => prometheus.stop(),
  };
}
