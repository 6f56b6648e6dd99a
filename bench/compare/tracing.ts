// Tracing on vs off: the same drain in a process of its own, with its spans exported at 100 % sampling over
// OTLP/HTTP to a collector in the bench process, or with no exporter (the worker as shipped without a
// collector). The collector counts what arrived: one `process` span per task, one `send` per task sent.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PoolKind } from '@nightshift/worker';
import type { OtlpCollector } from './otlp-collector.ts';
import type { RoundResult, Servers } from './nightshift.ts';

const roundScript = fileURLToPath(new URL('./tracing-round.ts', import.meta.url));

/** A drain round, and the spans the collector received from it. */
export interface TracedRound extends RoundResult {
  readonly spans: ReadonlyMap<string, number>;
  /** CPU time of the worker's main thread per task, first task done to last, and the spans' export left after it. */
  readonly cpuUsPerTask: number;
}

/**
 * `off`: no exporter. `json`, `protobuf`: OTLP/HTTP with that encoding; `json:64` and the like: exports of at most
 * that many spans (OTEL_BSP_MAX_EXPORT_BATCH_SIZE; OpenTelemetry's default is 512).
 */
export type Tracing = string;

export async function tracedDrain(servers: Servers, pool: PoolKind, tasks: number, tracing: Tracing, collector: OtlpCollector): Promise<TracedRound> {
  const env: NodeJS.ProcessEnv = { ...process.env, OTEL_TRACES_SAMPLER: 'always_on' };
  for (const variable of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE']) delete env[variable];
  if (tracing !== 'off') {
    const [encoding, batch] = tracing.split(':');
    if (encoding !== 'json' && encoding !== 'protobuf') throw new Error(`tracing ${JSON.stringify(tracing)}: off, json or protobuf, with :<batch size> or not`);
    env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.endpoint;
    env.OTEL_EXPORTER_OTLP_PROTOCOL = `http/${encoding}`;
    if (batch) env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = batch;
  }
  collector.reset();
  const child = spawn(process.execPath, [roundScript, JSON.stringify({ ...servers, pool, tasks })], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`tracing round (${tracing}) exited with ${code}: ${output}`);
  const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as RoundResult & { cpuUsPerTask: number };
  return { ...result, spans: new Map(collector.spans) };
}
