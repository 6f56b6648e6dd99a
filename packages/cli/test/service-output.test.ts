import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readableLogLine } from '../src/log-line.ts';
import { ServiceOutput } from '../src/service-output.ts';
import { Capture } from './test-io.ts';

const retrying = JSON.stringify({
  level: 'warn', time: '2026-11-25T01:01:31.544Z', service: 'worker', pid: 4996, hostname: 'vm', trace_id: 'ca18099770f876f5ed7beeaf423fb7bf',
  span_id: 'c1d0f2f3c058c227', trace_flags: '01', task: 'users.sync', attempt: 1, delayMs: 1607,
  err: { type: 'Object', message: 'the CRM answered HTTP 503', stack: '', name: 'RetryableError' }, msg: 'retrying',
});

test('a service\'s JSON log line reads as time, level, message, then its fields, the trace id last', () => {
  assert.equal(readableLogLine(retrying),
    '01:01:31 WARN retrying  task=users.sync attempt=1 delayMs=1607 err="RetryableError: the CRM answered HTTP 503" trace_id=ca18099770f876f5ed7beeaf423fb7bf');
  const ready = JSON.stringify({ level: 'info', time: '2026-11-25T01:01:08.976Z', service: 'health-api', pid: 1, hostname: 'vm', url: 'http://127.0.0.1:5555', msg: 'health-api ready' });
  assert.equal(readableLogLine(ready), '01:01:08 health-api ready  url=http://127.0.0.1:5555', 'info says no level');
});

test('an error line shows the error\'s class and the first frames of its stack; long values are cut with …', () => {
  const failed = JSON.stringify({
    level: 'error', time: '2026-11-25T01:01:29.705Z', msg: 'dead-lettered', detail: 'x'.repeat(300),
    err: { type: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at run (app.ts:1:1)\n    at next (app.ts:2:2)' },
  });
  assert.deepEqual(readableLogLine(failed)?.split('\n'), [
    `01:01:29 ERROR dead-lettered  detail=${'x'.repeat(160)}… err="TypeError: boom"`,
    '  at run (app.ts:1:1)',
    '  at next (app.ts:2:2)',
  ]);
});

test('a line that is not a JSON log line is left as it is', () => {
  for (const text of ['listening on 5555', '{not json', '{"msg":"no level"}', '[1,2]']) assert.equal(readableLogLine(text), undefined, text);
});

test('nightshift up shows service log lines readable, prefixed on every line; --json passes them on whole', () => {
  const human = new Capture();
  new ServiceOutput({ stdout: human, stderr: human, names: ['worker'] }).line('worker', 'stdout', retrying);
  assert.deepEqual(human.lines(), [`worker      ${readableLogLine(retrying)}`]);

  const json = new Capture();
  new ServiceOutput({ stdout: json, stderr: json, names: ['worker'], json: true }).line('worker', 'stdout', retrying);
  assert.equal(json.records()[0]?.line, retrying);
});
