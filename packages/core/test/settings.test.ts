import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  combineSettings, ConfigError, CORE_SETTINGS, defineSetting, describeUnknownSettings, HEARTBEAT, parsers, secretValues, settingStates,
  TRACE_URL, unknownSettings, URL_PASSWORD_SECRET, WHOLE_VALUE_SECRET,
} from '@nightshift/core';

const TOKEN = defineSetting({ name: 'NIGHTSHIFT_TOKEN', description: 'a token', parse: parsers.secretText(16), secret: WHOLE_VALUE_SECRET });
const SERVER = defineSetting({ name: 'NIGHTSHIFT_SERVER', description: 'a server', parse: parsers.url(['http', 'https']), default: 'http://u:defaultpw@host', secret: URL_PASSWORD_SECRET });
const LIMIT = defineSetting({ name: 'NIGHTSHIFT_LIMIT', description: 'a limit', parse: parsers.wholeNumber(1, 9), default: '3' });

test('a setting reads its default when unset or blank, and names itself when its text is refused', () => {
  assert.equal(LIMIT.read(undefined), 3);
  assert.equal(LIMIT.read('  '), 3);
  assert.equal(LIMIT.read(' 7 '), 7);
  assert.throws(() => LIMIT.read('12'), (error: unknown) => error instanceof ConfigError && error.message === 'NIGHTSHIFT_LIMIT: "12" must be a whole number from 1 to 9');
  const plain = defineSetting({ name: 'NIGHTSHIFT_PLAIN', description: 'p', parse: () => { throw new Error('no good'); } });
  assert.throws(() => plain.read('x'), (error: unknown) => error instanceof ConfigError && error.message === 'NIGHTSHIFT_PLAIN: no good' && error.field === 'NIGHTSHIFT_PLAIN');
  assert.equal(plain.read(undefined), undefined);
});

test('a declaration whose default its own parser refuses fails when it is declared', () => {
  assert.throws(() => defineSetting({ name: 'NIGHTSHIFT_BROKEN', description: 'b', parse: parsers.duration(), default: 'soon' }), /NIGHTSHIFT_BROKEN: "soon" is not a duration/);
  assert.throws(() => defineSetting({ name: 'nightshift_lower', description: 'l', parse: parsers.text }), /upper-case/);
});

test('the parsers word each mistake the same way, whichever service declares the setting', () => {
  const refused = (parse: (raw: string, name: string) => unknown, raw: string): string => {
    try {
      parse(raw, 'NIGHTSHIFT_X');
    } catch (error) {
      return (error as Error).message;
    }
    return 'accepted';
  };
  assert.equal(refused(parsers.port, '70000'), 'NIGHTSHIFT_X: "70000" must be a whole number from 0 to 65535');
  assert.equal(refused(parsers.ratio, '1.5'), 'NIGHTSHIFT_X: "1.5" must be a number from 0 to 1');
  assert.equal(refused(parsers.duration(100), '50ms'), 'NIGHTSHIFT_X: must be at least 100ms');
  assert.equal(refused(parsers.boolean, 'maybe'), 'NIGHTSHIFT_X: "maybe" must be 1 or 0 (true or false)');
  assert.equal(refused(parsers.oneOf(['a', 'b']), 'c'), 'NIGHTSHIFT_X: "c" must be one of a, b');
  assert.equal(refused(parsers.url(['amqp']), 'http://u:hunter2@x'), 'NIGHTSHIFT_X: scheme "http:" is not one of amqp:');
  assert.equal(refused(parsers.url(['amqp']), 'not a url :hunter2@'), 'NIGHTSHIFT_X: "not a url :hunter2@" is not a URL (expected amqp://host:port)');
  assert.equal(refused(parsers.schemaName, '1abc'), 'NIGHTSHIFT_X: "1abc" must start with a letter or _ and hold only letters, digits, _ or - (at most 63)');
  assert.equal(refused(parsers.secretText(16), 'short'), 'NIGHTSHIFT_X: must be at least 16 characters');
  assert.deepEqual(parsers.list(parsers.text)(' a, ,b ', 'NIGHTSHIFT_X'), ['a', 'b']);
  assert.equal(parsers.boolean('TRUE', 'NIGHTSHIFT_X'), true);
});

test('the state of each setting: its value shown with secrets masked, where it came from, and why it is refused', () => {
  const states = settingStates([TOKEN, SERVER, LIMIT], { NIGHTSHIFT_TOKEN: 'abcdefghijklmnopqrstuvwxyz', NIGHTSHIFT_LIMIT: '42' });
  assert.deepEqual(states.map(({ setting, shown, source, problem }) => [setting.name, shown, source, problem]), [
    ['NIGHTSHIFT_TOKEN', '***', 'environment', undefined],
    ['NIGHTSHIFT_SERVER', 'http://u:***@host/', 'default', undefined],
    ['NIGHTSHIFT_LIMIT', '42', 'environment', 'NIGHTSHIFT_LIMIT: "42" must be a whole number from 1 to 9'],
  ]);
  assert.equal(settingStates([TOKEN], {})[0]?.shown, undefined, 'unset without a default');
});

test('the secret values to redact: whole secrets and URL passwords (as written and decoded), defaults too, none under 4 characters', () => {
  assert.deepEqual(secretValues([TOKEN, SERVER, LIMIT], { NIGHTSHIFT_TOKEN: 'abcdefghijklmnopqrstuvwxyz' }), ['abcdefghijklmnopqrstuvwxyz', 'defaultpw']);
  assert.deepEqual(secretValues([SERVER], { NIGHTSHIFT_SERVER: 'https://u:p%40ssword@host' }), ['p%40ssword', 'p@ssword']);
  assert.deepEqual(secretValues([SERVER], { NIGHTSHIFT_SERVER: 'https://u:pw@host' }), []);
});

test('lists of settings combine each declaration once and refuse two declarations of one variable', () => {
  assert.deepEqual(combineSettings([LIMIT, TOKEN], [LIMIT, SERVER]).map((s) => s.name), ['NIGHTSHIFT_LIMIT', 'NIGHTSHIFT_TOKEN', 'NIGHTSHIFT_SERVER']);
  const again = defineSetting({ name: 'NIGHTSHIFT_LIMIT', description: 'again', parse: parsers.text });
  assert.throws(() => combineSettings([LIMIT], [again]), /NIGHTSHIFT_LIMIT is declared twice/);
});

test('a misspelled setting is reported with the declared one it most likely meant; declared ones and other variables are not', () => {
  const settings = [...CORE_SETTINGS, defineSetting({ name: 'NIGHTSHIFT_WORKER_CONCURRENCY', description: 'c', parse: parsers.wholeNumber(1, 9) })];
  const env = { NIGHTSHIFT_PREFX: 'dev', NIGHTSHIFT_PREFIX: 'dev', NIGHTSHIFT_WORKER_CONCURENCY: '4', NIGHTSHIFT_SOMETHING_ELSE_ENTIRELY: '1', PATH: '/bin' };
  assert.deepEqual(unknownSettings(env, settings), [
    { name: 'NIGHTSHIFT_PREFX', didYouMean: 'NIGHTSHIFT_PREFIX' },
    { name: 'NIGHTSHIFT_SOMETHING_ELSE_ENTIRELY', didYouMean: undefined },
    { name: 'NIGHTSHIFT_WORKER_CONCURENCY', didYouMean: 'NIGHTSHIFT_WORKER_CONCURRENCY' },
  ]);
  assert.equal(describeUnknownSettings({ NIGHTSHIFT_PREFX: 'dev' }, settings)[0], 'NIGHTSHIFT_PREFX is not a Nightshift setting and is ignored (did you mean NIGHTSHIFT_PREFIX?)');
});

test('the core names no variable of a service: every NIGHTSHIFT_* in its sources is one it declares', () => {
  const own = new Set([...CORE_SETTINGS, HEARTBEAT, TRACE_URL].map((setting) => setting.name));
  own.add('NIGHTSHIFT_PREFX'); // the typo its documentation shows
  const src = join(import.meta.dirname, '..', 'src');
  const named = readdirSync(src).flatMap((file) => [...readFileSync(join(src, file), 'utf8').matchAll(/NIGHTSHIFT_[A-Z0-9_]*[A-Z0-9]/g)].map((m) => `${file}: ${m[0]}`));
  assert.deepEqual(named.filter((entry) => !own.has(entry.split(': ')[1] as string)), []);
});
