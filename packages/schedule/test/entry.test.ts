import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@nightshift/core';
import { checkScheduleEntries, compileScheduleEntries, every } from '@nightshift/schedule';

test("an entry is validated and defaulted: name from the task, misfire 'once'", () => {
  const [entry] = compileScheduleEntries([{ task: 'tokens.cleanupExpired', schedule: { every: '15m' } }], ['tokens.cleanupExpired']);
  assert.ok(entry);
  assert.equal(entry.name, 'tokens.cleanupExpired');
  assert.deepEqual(entry.schedule, every('15m'));
  assert.deepEqual(entry.args, []);
  assert.deepEqual(entry.kwargs, {});
  assert.equal(entry.queue, undefined);
  assert.equal(entry.misfire.policy, 'once');
});

test('every field of an entry', () => {
  const [entry] = compileScheduleEntries([{
    name: 'api-health', task: 'apis.checkHealth', schedule: '*/5 * * * *', args: [{ timeout: '2s' }], kwargs: { region: 'eu' },
    options: { queue: 'health', expires: '1m' }, misfire: 'skip',
  }]);
  assert.ok(entry);
  assert.equal(entry.schedule.type, 'cron');
  assert.deepEqual(entry.args, [{ timeout: '2s' }]);
  assert.deepEqual(entry.kwargs, { region: 'eu' });
  assert.equal(entry.queue, 'health');
  assert.equal(entry.expires, '1m');
  assert.deepEqual(entry.misfire, { policy: 'skip', graceMs: 1_000, cap: 10 });
});

test('every bad entry is reported, each named by index and name', () => {
  const { entries, problems } = checkScheduleEntries([
    { name: 'ok', task: 'a', schedule: '0 * * * *' },
    { name: 'nightly', task: 'a', schedule: '0 25 * * *' },
    { task: 'b', schedule: { every: '5m' }, misfire: 'twice' },
    { name: 'ok', task: 'a', schedule: '0 * * * *' },
    { name: 'x', task: 'a', schedule: '0 * * * *', options: { queue: 'bad queue!' } },
    { name: 'y', task: 'a', schedule: '0 * * * *', options: { expires: 'later' } },
    { name: 'z', task: 'a', schedule: '0 * * * *', options: { priority: 1 } },
    { name: 'w', task: 'a', schedule: '0 * * * *', schedul: 'typo' },
    { name: 'v', task: 'a' },
    { name: 'u', task: 'nope', schedule: '0 * * * *' },
    'not an entry',
  ], ['a', 'b']);
  assert.deepEqual(entries.map((e) => e.name), ['ok']);
  const byIndex = Object.fromEntries(problems.map((p) => [p.index, p.message]));
  assert.match(byIndex[1] as string, /^schedule\[1\] "nightly" "0 25 \* \* \*": hour "25" has 25, outside 0-23/);
  assert.match(byIndex[2] as string, /^schedule\[2\] "b": misfire "twice"/);
  assert.match(byIndex[3] as string, /^schedule\[3\] "ok": schedule\[0\] has the same name/);
  assert.match(byIndex[4] as string, /^schedule\[4\] "x" options.queue: "bad queue!" is not a queue name/);
  assert.match(byIndex[5] as string, /^schedule\[5\] "y" options.expires: "later" is not a duration/);
  assert.match(byIndex[6] as string, /^schedule\[6\] "z": unknown option "priority"/);
  assert.match(byIndex[7] as string, /^schedule\[7\] "w": unknown field "schedul"/);
  assert.match(byIndex[8] as string, /^schedule\[8\] "v": schedule is missing/);
  assert.match(byIndex[9] as string, /^schedule\[9\] "u": task "nope" is not one of the app's tasks/);
  assert.match(byIndex[10] as string, /^schedule\[10\]: an entry must be an object/);
});

test('compileScheduleEntries throws one ConfigError naming every bad entry', () => {
  assert.throws(() => compileScheduleEntries([{ name: 'a', task: 't', schedule: 'nope' }]), (error: unknown) => error instanceof ConfigError && /^schedule\[0\] "a": "nope" has 1 field;/.test(error.message));
  assert.throws(() => compileScheduleEntries([{ name: 'a', task: 't', schedule: 'nope' }, { name: 'b', task: 't', schedule: { every: 0 } }]), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^2 schedule entries are invalid:\n {2}schedule\[0\] "a": .*\n {2}schedule\[1\] "b": /);
    return true;
  });
});

test("entry names must be usable as keys: no spaces", () => {
  assert.throws(() => compileScheduleEntries([{ name: 'daily report', task: 't', schedule: '@daily' }]), /name "daily report" must be letters, digits/);
});

test('an entry whose cron date never occurs is refused at definition, named, and the others are still checked', () => {
  const { entries, problems } = checkScheduleEntries([
    { name: 'feb-30', task: 't', schedule: '0 0 30 feb *' },
    { name: 'fine', task: 't', schedule: '0 6 * * *' },
    { name: 'short-months', task: 't', schedule: '0 0 31 4,6,9,11 *' },
  ]);
  assert.deepEqual(entries.map((entry) => entry.name), ['fine']);
  assert.deepEqual(problems.map((problem) => problem.message), [
    'schedule[0] "feb-30" "0 0 30 feb *": day 30 never occurs in February, so this schedule would never run',
    'schedule[2] "short-months" "0 0 31 4,6,9,11 *": day 31 never occurs in April, June, September or November, so this schedule would never run',
  ]);
});
