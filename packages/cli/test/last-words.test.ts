import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LastWords } from '../src/last-words.ts';

test('the last message on stderr wins, with its indented lines joined on', () => {
  const words = new LastWords();
  words.heard('stdout', '{"level":30,"msg":"starting"}');
  words.heard('stderr', 'worker: invalid configuration:');
  words.heard('stderr', '  NIGHTSHIFT_WORKER_GRACE: "soon" is not a duration');
  words.heard('stderr', '  NIGHTSHIFT_HEARTBEAT: "x" is not a duration');
  words.heard('stdout', '{"level":30,"msg":"later, on stdout"}');
  words.heard('stderr', '');
  assert.equal(words.said(), 'worker: invalid configuration: NIGHTSHIFT_WORKER_GRACE: "soon" is not a duration; NIGHTSHIFT_HEARTBEAT: "x" is not a duration');
  words.heard('stderr', 'worker: a newer message');
  assert.equal(words.said(), 'worker: a newer message');
});

test('without stderr, the last stdout line: a JSON log line gives its msg, with its error when the msg leaves it out', () => {
  const fatal = new LastWords();
  fatal.heard('stdout', JSON.stringify({ level: 60, msg: 'beat cannot start: schedule[1] "nightly": hour "25" has 25', err: { message: 'schedule[1] "nightly": hour "25" has 25', stack: 'ConfigError: …\n    at …'.repeat(40) } }));
  assert.equal(fatal.said(), 'beat cannot start: schedule[1] "nightly": hour "25" has 25');
  const terse = new LastWords();
  terse.heard('stdout', JSON.stringify({ level: 60, msg: 'the health-api could not start', err: { message: 'NIGHTSHIFT_HTTP_PORT is taken' } }));
  assert.equal(terse.said(), 'the health-api could not start: NIGHTSHIFT_HTTP_PORT is taken');
  const plain = new LastWords();
  plain.heard('stdout', '  plain words  ');
  plain.heard('stdout', '42');
  assert.equal(plain.said(), '42');
  assert.equal(new LastWords().said(), undefined);
});

test('a long message is cut', () => {
  const words = new LastWords();
  words.heard('stderr', 'x'.repeat(2_000));
  assert.equal(words.said(20), `${'x'.repeat(19)}…`);
  assert.equal(words.said()?.length, 500);
});
