// One round of the tracing figure, in a process of its own (OpenTelemetry's globals are registered once per
// process, and the other figures run untraced): telemetry started as the worker service starts it, then a
// drain. Tracing on or off is the environment's doing, as for the service: with OTEL_EXPORTER_OTLP_ENDPOINT
// the spans go over OTLP/HTTP (OTEL_EXPORTER_OTLP_PROTOCOL: JSON or protobuf); without it they get ids (for log
// lines and propagation) and go nowhere.
// argv[2]: JSON { amqpUrl, redisUrl, pool, tasks }. Prints one JSON line: the round's result.
import { signals } from '@nightshift/core';
import { startTelemetry, trace } from '@nightshift/telemetry';
import type { PoolKind } from '@nightshift/worker';
import { nightshiftDrain, type Servers } from './nightshift.ts';

const { amqpUrl, redisUrl, pool, tasks } = JSON.parse(process.argv[2] ?? '{}') as Servers & { pool: PoolKind; tasks: number };
const telemetry = await startTelemetry({ service: 'worker', metricsPort: 0, logLevel: 'error' });
const provider = (trace.getTracerProvider() as { getDelegate?: () => { forceFlush?: () => Promise<void> } }).getDelegate?.();

// CPU of the main thread (where the spans are made and exported, and the drain's bookkeeping runs) from the first
// task done to the last, and then for exporting the spans still pending: less moved by a busy machine than a rate.
let done = 0;
let first: NodeJS.CpuUsage | undefined;
let drain: NodeJS.CpuUsage | undefined;
const onSuccess = () => {
  done += 1;
  if (done === 1) first = process.threadCpuUsage();
  else if (done === tasks) drain = process.threadCpuUsage(first);
};
signals.on('taskSuccess', onSuccess);
// The sends' spans are exported before the worker starts, so the drain pays for its own spans only.
const result = await nightshiftDrain({ amqpUrl, redisUrl }, pool, tasks, async () => { await provider?.forceFlush?.(); });
signals.off('taskSuccess', onSuccess);
const beforeFlush = process.threadCpuUsage();
await provider?.forceFlush?.();
const flush = process.threadCpuUsage(beforeFlush);
await telemetry.shutdown(); // exports what is left, so the collector has every span when this process ends
const cpuUs = (drain ? drain.user + drain.system : Number.NaN) + flush.user + flush.system;
process.stdout.write(`${JSON.stringify({ ...result, cpuUsPerTask: cpuUs / (tasks - 1) })}\n`);
process.exit(0);
