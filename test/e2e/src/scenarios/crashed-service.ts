// Disaster 1: a service process dies. The supervisor of `nightshift up` starts it again, work sent meanwhile
// waits in its queue and runs, and Prometheus shows the outage: `up == 0`, and the expression of
// NightshiftServiceDown (deploy/prometheus/alerts.yml) true for the worker while it was down.
import { fileURLToPath } from 'node:url';
import { work } from '../fixtures/tasks.ts';
import { alertExpression, prometheusInstalled } from '../prometheus.ts';
import { check, clock, seconds, type Check, type Scenario } from '../scenario.ts';
import { withStack } from '../stack.ts';
import { eventually } from '@nightshift/test-helpers';

const APP = fileURLToPath(new URL('../fixtures/app.ts', import.meta.url));
const SCRAPE_MS = 500;
const TASKS_DURING_OUTAGE = 5;

export interface CrashFacts {
  readonly killedPid: number;
  readonly restartedPid: number;
  /** From the kill to the new worker's "worker ready". */
  readonly downMs: number;
  readonly restartMessage: string;
  readonly sentDuringOutage: number;
  /** Tasks sent during the outage that succeeded (each counted once). */
  readonly completed: number;
  /** Tasks sent during the outage that succeeded more than once. */
  readonly ranTwice: number;
  /** Of those, how many ran on the new worker. */
  readonly onNewWorker: number;
  readonly prometheus: {
    readonly installed: boolean;
    /** Scrapes of the worker between the kill and the new worker's start that failed (`up == 0`), and when. */
    readonly downScrapes: readonly number[];
    /** Instants at which NightshiftServiceDown's expression held for the worker. */
    readonly alertTrueFor: readonly number[];
    /** Jobs other than the worker's for which it held during the outage (a scrape timed out): reported, not judged. */
    readonly alertTrueForOthers: readonly string[];
    /** Whether Prometheus's own rule evaluation put the alert in `pending` (it fires only after its `for: 2m`). */
    readonly pendingSeen: boolean;
  };
}

export const crashedService: Scenario<CrashFacts> = {
  name: 'crashed-service',
  title: 'A crashed service comes back',
  disaster: 'the worker process is killed (kill -9) while tasks keep coming',
  withoutNightshift: 'it stayed dead until someone noticed in the morning, and nothing told anyone',
  run: ({ narrate, logFile }) => withStack({ app: APP, label: 'crash', prometheus: prometheusInstalled(), ...(logFile ? { logFile } : {}) }, async (stack) => {
    const startedAt = Date.now();
    await stack.up();
    const prom = stack.prometheus;
    narrate(`nightshift up runs worker, beat, alerter and health-api${prom ? `; Prometheus scrapes each every ${SCRAPE_MS} ms` : ' (Prometheus is not installed: the outage cannot be shown)'}`);
    if (prom) await eventually('Prometheus to scrape all four services', async () => (await prom.query('up{job=~"nightshift-.+"} == 1')).length === 4, 20_000, 100);
    const warmUp = await stack.client.send(work, ['before the crash', 10]);
    await stack.events.outcome(warmUp);

    stack.log.note('disaster: kill -9 the worker');
    const killedPid = stack.kill('worker', 'SIGKILL');
    const killedAt = Date.now();
    narrate(`kill -9 the worker (pid ${killedPid})`);
    const ids: string[] = [];
    for (let i = 1; i <= TASKS_DURING_OUTAGE; i += 1) ids.push(await stack.client.send(work, [`order ${i}`, 50]));
    narrate(`${TASKS_DURING_OUTAGE} tasks sent while no worker runs: RabbitMQ keeps them in the queue`);

    const restart = await stack.waitForRestart('worker', killedPid);
    const downMs = restart.readyAt - killedAt;
    narrate(`the supervisor: "${restart.restartingMessage}"; the new worker (pid ${restart.pid}) is ready ${seconds(downMs)} after the kill`);
    const outcomes = await Promise.all(ids.map((id) => stack.events.outcome(id)));
    const succeeded = outcomes.filter((e) => e.type === 'task.succeeded');
    const onNewWorker = succeeded.filter((e) => String(e.worker).endsWith(`:${restart.pid}`)).length;
    const ranTwice = ids.filter((id) => stack.events.of('task.succeeded', (e) => e.id === id).length > 1).length;
    narrate(`${succeeded.length} of ${ids.length} tasks succeeded, ${onNewWorker} of them on the new worker`);

    let prometheus: CrashFacts['prometheus'] = { installed: false, downScrapes: [], alertTrueFor: [], alertTrueForOthers: [], pendingSeen: false };
    if (prom) {
      // The new worker's metrics answer again: wait for a successful scrape, so the outage is over in Prometheus too.
      await eventually('Prometheus to scrape the new worker', async () => (await prom.query('up{job="nightshift-worker"} == 1')).length === 1, 20_000, 100);
      const windowSeconds = (Date.now() - startedAt) / 1000 + 5;
      const [worker] = await prom.samples('up{job="nightshift-worker"}', windowSeconds);
      // Only the outage: before the services first answered, Prometheus's first scrapes failed too.
      const outage = (ms: number) => ms >= killedAt - SCRAPE_MS && ms <= restart.readyAt + SCRAPE_MS;
      const downScrapes = (worker?.values ?? []).filter(([at, value]) => value === '0' && outage(at * 1000)).map(([at]) => at * 1000);
      const expression = alertExpression('NightshiftServiceDown');
      const held = (await prom.queryRange(expression, killedAt - SCRAPE_MS, SCRAPE_MS / 2000))
        .map((series) => ({ ...series, values: series.values.filter(([at]) => outage(at * 1000)) })).filter((series) => series.values.length > 0);
      const alertTrueFor = held.filter((s) => s.metric.job === 'nightshift-worker').flatMap((s) => s.values.map(([at]) => at * 1000));
      const alertTrueForOthers = held.filter((s) => s.metric.job !== 'nightshift-worker').map((s) => s.metric.job ?? '?');
      const pending = await prom.samples('ALERTS{alertname="NightshiftServiceDown", job="nightshift-worker"}', windowSeconds);
      prometheus = { installed: true, downScrapes, alertTrueFor, alertTrueForOthers, pendingSeen: pending.some((s) => s.metric.alertstate === 'pending' && s.values.some(([at]) => outage(at * 1000))) };
      if (downScrapes.length > 0) {
        narrate(`Prometheus: up{job="nightshift-worker"} was 0 in ${downScrapes.length} scrapes, ${clock(downScrapes[0] as number)}–${clock(downScrapes.at(-1) as number)} UTC`);
      }
      narrate(`the alert rule NightshiftServiceDown (\`${expression}\`) held for the worker for ${seconds(alertTrueFor.length * SCRAPE_MS / 2)}` +
        `${prometheus.pendingSeen ? '; Prometheus had the alert pending (it pages once it has held for its for: 2m, which this short outage does not reach)' : ''}`);
      if (alertTrueForOthers.length > 0) narrate(`(it also held for ${[...new Set(alertTrueForOthers)].join(', ')}: a scrape timed out on this busy machine)`);
    }

    const facts: CrashFacts = {
      killedPid, restartedPid: restart.pid, downMs, restartMessage: restart.restartingMessage,
      sentDuringOutage: ids.length, completed: succeeded.length, ranTwice, onNewWorker, prometheus,
    };
    return { facts, checks: judge(facts), logFile: stack.log.file };
  }),
};

function judge(facts: CrashFacts): Check[] {
  const p = facts.prometheus;
  return [
    check('the supervisor brought the worker back', facts.restartedPid !== facts.killedPid && /SIGKILL/.test(facts.restartMessage),
      `pid ${facts.killedPid} killed, pid ${facts.restartedPid} ready ${seconds(facts.downMs)} later`),
    check('work sent during the outage still ran, each task once', facts.completed === facts.sentDuringOutage && facts.ranTwice === 0 && facts.onNewWorker === facts.completed,
      `${facts.completed} of ${facts.sentDuringOutage} succeeded on the new worker, ${facts.ranTwice} ran twice`),
    check('Prometheus saw the worker down (up == 0)', p.installed && p.downScrapes.length > 0,
      p.installed ? `${p.downScrapes.length} failed scrapes of the worker` : 'prometheus is not installed (apt-get install prometheus, or set PROMETHEUS_BIN)'),
    check('the alert rule NightshiftServiceDown held for the worker during the outage', p.installed && p.alertTrueFor.length > 0,
      p.installed ? `its expression true in ${p.alertTrueFor.length} evaluations, one every ${SCRAPE_MS / 2} ms${p.pendingSeen ? ', the alert pending' : ''}` : 'prometheus is not installed'),
  ];
}
