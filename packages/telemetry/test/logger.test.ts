import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { context, createJsonLogger, createLogger, startTelemetry, trace, type LoggerOptions, type Telemetry } from '@nightshift/telemetry';

/** A logger writing into memory, and its lines parsed. */
function capture(options: Omit<LoggerOptions, 'destination'>) {
  const raw: string[] = [];
  const logger = createLogger({ ...options, destination: { write: (line: string) => void raw.push(line) } });
  const lines = () => raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, raw, lines };
}

// The active span is found through the context manager that startTelemetry installs.
let telemetry: Telemetry;
before(async () => {
  telemetry = await startTelemetry({ service: 'logger-test', metricsPort: 0, logLevel: 'silent', spanExporter: new InMemorySpanExporter() });
});
after(() => telemetry.shutdown());

test('one JSON line per event, with the service, and no trace ids outside a span', () => {
  const { logger, raw, lines } = capture({ service: 'worker' });
  logger.info({ task: 'send-report' }, 'task started');
  assert.equal(raw.length, 1);
  assert.ok(raw[0]?.endsWith('\n') && raw[0].indexOf('\n') === raw[0].length - 1);
  const [line] = lines();
  assert.equal(line?.service, 'worker');
  assert.equal(line?.level, 'info');
  assert.equal(line?.msg, 'task started');
  assert.equal(line?.task, 'send-report');
  assert.equal(line?.trace_id, undefined);
  assert.equal(line?.span_id, undefined);
});

test('a line written inside an active span carries its trace_id and span_id', () => {
  const { logger, lines } = capture({ service: 'worker' });
  const span = telemetry.tracer.startSpan('run send-report');
  context.with(trace.setSpan(context.active(), span), () => logger.info('inside'));
  span.end();
  const { traceId, spanId } = span.spanContext();
  assert.match(traceId, /^[0-9a-f]{32}$/);
  const [line] = lines();
  assert.equal(line?.trace_id, traceId);
  assert.equal(line?.span_id, spanId);
  assert.equal(line?.trace_flags, '01');
});

test('the JSON logger of a sandbox: ids it is given are bound, an active span is not read, secrets are redacted all the same', () => {
  const raw: string[] = [];
  const logger = createJsonLogger({ service: 'worker', redactValues: ['hunter2'], destination: { write: (line: string) => void raw.push(line) } });
  const span = telemetry.tracer.startSpan('process send-report');
  context.with(trace.setSpan(context.active(), span), () => {
    logger.info('not bound');
    logger.child({ trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) }).warn({ password: 'x', note: 'hunter2 said' }, 'bound');
  });
  span.end();
  const [free, bound] = raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(free?.trace_id, undefined, 'no span read from the context');
  assert.equal(free?.service, 'worker');
  assert.deepEqual([bound?.trace_id, bound?.span_id], ['a'.repeat(32), 'b'.repeat(16)]);
  assert.ok(!raw.join('').includes('hunter2') && bound?.password !== 'x', raw.join(''));
  assert.throws(() => createJsonLogger({ service: 'w', level: 'loud' }), /createJsonLogger: level "loud" must be one of/);
});

test('secrets by key name, by configured value and in URLs never reach the output', () => {
  const { logger, raw, lines } = capture({ service: 'alerter', redactKeys: ['pin'], redactValues: ['hunter2', 's3cr"et'] });
  logger.child({ amqpUrl: 'amqp://guest:hunter2@rabbit:5672', token: 'child-token' }).warn(
    { smtp: { user: 'ops', pass: 'mail-pass' }, Authorization: 'Bearer abc', pin: 1234, note: 'it was hunter2 all along', quoted: 's3cr"et' },
    'retrying %s against %s', 'hunter2', 'postgres://app:db-pass@db/app',
  );
  logger.error(new Error('connect to redis://:cache-pass@cache failed, key hunter2'));
  for (const secret of ['hunter2', 'child-token', 'mail-pass', 'Bearer abc', '1234', 's3cr', 'db-pass', 'cache-pass']) {
    assert.ok(!raw.join('').includes(secret), `${secret} leaked: ${raw.join('')}`);
  }
  const [warning, failure] = lines();
  assert.deepEqual(warning?.smtp, { user: 'ops', pass: '***' });
  assert.equal(warning?.Authorization, '***');
  assert.equal(warning?.pin, '***');
  assert.equal(warning?.token, '***');
  assert.equal(warning?.amqpUrl, 'amqp://guest:***@rabbit:5672');
  assert.equal(warning?.note, 'it was *** all along');
  assert.equal(warning?.msg, 'retrying *** against postgres://app:***@db/app');
  const err = failure?.err as { type: string; message: string; stack: string };
  assert.equal(err.type, 'Error');
  assert.equal(err.message, 'connect to redis://:***@cache failed, key ***');
  assert.match(err.stack, /^Error: connect to redis:\/\/:\*\*\*@cache failed, key \*\*\*\n/);
});

test('fields of class instances are redacted like plain objects', () => {
  const { logger, raw, lines } = capture({ service: 'worker', redactValues: ['hunter2'] });
  class Settings {
    readonly dsn = 'amqp://u:hunter2@rabbit';
  }
  logger.info({ settings: new Settings(), note: 'hunter2' }, 'loaded');
  assert.ok(!raw.join('').includes('hunter2'), raw.join(''));
  assert.deepEqual(lines()[0]?.settings, { dsn: '***' });
  assert.equal(lines()[0]?.note, '***');
});

test('levels filter, and a bad level or service is named', () => {
  const { logger, raw } = capture({ service: 'beat', level: 'warn' });
  logger.info('hidden');
  logger.warn('shown');
  assert.equal(raw.length, 1);
  assert.throws(() => createLogger({ service: 'beat', level: 'loud' }), /createLogger: level "loud" must be one of trace, debug/);
  assert.throws(() => createLogger({ service: ' ' }), /createLogger: service must be a non-empty string/);
});
