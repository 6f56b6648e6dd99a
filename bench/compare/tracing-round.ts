// One round of the tracing figure, in a process of its own (OpenTelemetry's globals are registered once per
// process, and the other figures run untraced): telemetry started as the worker service starts it, then a
// drain. Tracing on or off is the environment's doing, as for the service: with OTEL_EXPORTER_OTLP_ENDPOINT
// the spans go over OTLP/HTTP; without it they get ids (for log lines and propagation) and go nowhere.
// argv[2]: JSON { amqpUrl, redisUrl, pool, tasks }. Prints one JSON line: the round's result.
import { startTelemetry, trace } from '@nightshift/telemetry';
import type { PoolKind } from '@nightshift/worker';
import { nightshiftDrain, type Servers } from './nightshift.ts';

const { amqpUrl, redisUrl, pool, tasks } = JSON.parse(process.argv[2] ?? '{}') as Servers & { pool: PoolKind; tasks: number };
const telemetry = await startTelemetry({ service: 'worker', metricsPort: 0, logLevel: 'error' });
const provider = (trace.getTracerProvider() as { getDelegate?: () => { forceFlush?: () => Promise<void> } }).getDelegate?.();
// The sends' spans are exported before the worker starts, so the drain pays for its own spans only.
let cpuBefore: NodeJS.CpuUsage | undefined;
const result = await nightshiftDrain({ amqpUrl, redisUrl }, pool, tasks, async () => {
  await provider?.forceFlush?.();
  cpuBefore = process.cpuUsage();
});
await telemetry.shutdown(); // exports what is left, so the collector has every span when this process ends
// CPU of the whole process (its sandbox threads too) from the worker's start to the last span exported: what
// tracing costs, less moved by a busy machine than a rate is.
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(`${JSON.stringify({ ...result, cpuUsPerTask: (cpu.user + cpu.system) / tasks })}\n`);
process.exit(0);
