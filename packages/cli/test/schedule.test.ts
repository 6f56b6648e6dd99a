import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { createScheduleCommand } from '../src/commands/schedule.ts';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';

const APP = join(import.meta.dirname, 'fixtures', 'schedule-app.ts');
const BAD_APP = join(import.meta.dirname, 'fixtures', 'schedule-bad-app.ts');
const IMPOSSIBLE_APP = join(import.meta.dirname, 'fixtures', 'schedule-impossible-app.ts');
const ZONES_APP = join(import.meta.dirname, 'fixtures', 'schedule-zones-app.ts');
// The day before Berlin springs forward: 02:30 does not exist on 2025-03-30.
const NOW = Date.parse('2025-03-29T12:00:00Z');
const commands = [createScheduleCommand({ now: () => NOW })];

test('schedule explain prints each entry in words with its next fire times in the app zone and UTC', async () => {
  const io = testIo();
  assert.equal(await main(['schedule', 'explain', '--app', APP, '--count', '3'], io, commands), 0, io.stderr.text);
  assert.equal(io.stdout.text, `app "schedule-fixture": 3 schedule entries, time zone Europe/Berlin

weekday-report → reports.generate("usage")
  at 09:00 on Monday through Friday, Europe/Berlin ('0 9 * * mon-fri')
  misfire: once (grace until the next run)
  DST: on 2025-03-30, clocks go forward from 02:00 to 03:00 in Europe/Berlin; this entry has no run then, so it is not affected
  next 3 fire times (Europe/Berlin, then UTC):
    2025-03-31 09:00:00 +02:00   2025-03-31T07:00:00Z
    2025-04-01 09:00:00 +02:00   2025-04-01T07:00:00Z
    2025-04-02 09:00:00 +02:00   2025-04-02T07:00:00Z

nightly → reports.generate("users")
  at 02:30, Europe/Berlin ('30 2 * * *')
  misfire: all (cap 10, no grace limit)
  DST: on 2025-03-30, 02:30 does not exist in Europe/Berlin (clocks go forward from 02:00 to 03:00): runs once at 03:00
  next 3 fire times (Europe/Berlin, then UTC):
    2025-03-30 03:00:00 +02:00   2025-03-30T01:00:00Z
    2025-03-31 02:30:00 +02:00   2025-03-31T00:30:00Z
    2025-04-01 02:30:00 +02:00   2025-04-01T00:30:00Z

tokens → tokens.cleanup() (queue maintenance)
  every 15 minutes
  misfire: skip (grace 30s)
  next 3 fire times (Europe/Berlin, then UTC):
    2025-03-29 13:15:00 +01:00   2025-03-29T12:15:00Z
    2025-03-29 13:30:00 +01:00   2025-03-29T12:30:00Z
    2025-03-29 13:45:00 +01:00   2025-03-29T12:45:00Z
`);
  assert.equal(io.stderr.text, '');
});

test('schedule explain --json prints one object per entry', async () => {
  const io = testIo();
  assert.equal(await main(['schedule', 'explain', '--app', APP, '--count', '2', '--json'], io, commands), 0);
  const records = io.stdout.records();
  assert.deepEqual(records.map((r) => r.entry), ['weekday-report', 'nightly', 'tokens']);
  assert.deepEqual(records[1], {
    entry: 'nightly', valid: true, task: 'reports.generate', args: ['users'], kwargs: {}, schedule: { type: 'cron', expression: '30 2 * * *', fixedTime: true },
    description: 'at 02:30, Europe/Berlin', timezone: 'Europe/Berlin', misfire: { policy: 'all', graceMs: null, cap: 10 },
    overlap: 'allow', jitterMs: 0, startAt: null, endAt: null,
    next: [{ utc: '2025-03-30T01:00:00.000Z', local: '2025-03-30 03:00:00 +02:00' }, { utc: '2025-03-31T00:30:00.000Z', local: '2025-03-31 02:30:00 +02:00' }],
    dst: 'on 2025-03-30, 02:30 does not exist in Europe/Berlin (clocks go forward from 02:00 to 03:00): runs once at 03:00',
  });
  assert.deepEqual((records[2] as { schedule: unknown }).schedule, { type: 'interval', everyMs: 900_000, anchor: '1970-01-01T00:00:00.000Z' });
});

test('invalid entries are printed with what is wrong, and the exit code is 2', async () => {
  const io = testIo();
  assert.equal(await main(['schedule', 'explain', '--app', BAD_APP, '--count', '1'], io, commands), 2);
  assert.match(io.stdout.text, /\nfine → reports.generate\(\)\n {2}at 06:00, UTC .*\n {2}misfire: .*\n {2}next fire time \(UTC\):\n {4}2025-03-30 06:00:00 \+00:00 {3}2025-03-30T06:00:00Z\n/, 'one fire time, in the singular');
  assert.match(io.stdout.text, /\nnightly: INVALID\n {2}schedule\[1\] "nightly" "0 25 \* \* \*": hour "25" has 25, outside 0-23\n/);
  assert.match(io.stdout.text, /\noften: INVALID\n {2}schedule\[2\] "often": "100ms" is shorter than the shortest interval, 1s\n/);
  assert.equal(io.stderr.text, 'error: 2 of 3 schedule entries are invalid; beat would not start\n');

  const json = testIo();
  assert.equal(await main(['schedule', 'explain', '--app', BAD_APP, '--json'], json, commands), 2);
  assert.deepEqual(json.stdout.records().map((r) => [r.entry, r.valid]), [['fine', true], ['nightly', false], ['often', false]]);
  assert.deepEqual(json.stderr.records(), [{ error: { code: 'E_CONFIG', message: '2 of 3 schedule entries are invalid; beat would not start', hint: null } }]);
});

test('usage mistakes say what to do', async () => {
  const cases: [string[], RegExp][] = [
    [['schedule'], /"nightshift schedule" needs an action\nthe actions are list, show, create/],
    [['schedule', 'explian', '--app', APP], /unknown action "explian".*\ndid you mean "nightshift schedule explain"\?/],
    [['schedule', 'show', '--app', APP], /"schedule show" needs the entry's name\ne\.g\. nightshift schedule show nightly/],
    [['schedule', 'pause', 'a', 'b', '--app', APP], /"schedule pause" takes one name, got 2/],
    [['schedule', 'explain', 'nightly', '--app', APP], /unexpected "nightly" after "explain"/],
    [['schedule', 'create', 'nightly', '--app', APP], /unexpected "nightly" after "create"\nthe name of a new entry is --name <name>/],
    [['schedule', 'explain', '--app', APP, '--note', 'x'], /--note does not apply to "schedule explain"\nit takes --count, --from/],
    [['schedule', 'resume', 'nightly', '--app', APP, '--yes'], /--yes does not apply to "schedule resume"\nit takes no options but --app and --json/],
    [['schedule', 'create', '--app', APP, '--name', 'x', '--task', 't', '--cron', '* * * * *', '--every', '5m'], /give --cron or --every, not both/],
    [['schedule', 'create', '--app', APP, '--name', 'x', '--task', 't', '--every', '5m', '--kwargs', '[1]'], /--kwargs must be a JSON object/],
    [['schedule', 'create', '--app', APP, '--file', 'no-such-entry.json'], /--file no-such-entry\.json: no such file/],
    [['schedule', 'update', 'x', '--app', APP, '--version', 'latest', '--every', '5m'], /--version "latest" must be a whole number from 1/],
    [['schedule', 'history', 'x', '--app', APP, '--limit', '0'], /--limit "0" must be a whole number from 1 to 500/],
    [['schedule', 'backfill', 'x', '--app', APP, '--to', '2026-01-01T00:00Z'], /"schedule backfill" needs --from/],
    [['schedule', 'backfill', 'x', '--app', APP, '--from', 'yesterday', '--to', '2026-01-01T00:00Z'], /--from "yesterday" is not a time/],
    [['schedule', 'explain'], /needs --app <path>/],
    [['schedule', 'explain', '--app', APP, '--count', '0'], /--count "0" must be a whole number from 1 to 1000/],
    [['schedule', 'explain', '--app', 'nope.ts'], /--app nope.ts: no such file/],
    [['schedule', 'explain', '--app', APP, '--from', 'tomorrow'], /--from "tomorrow" is not an instant/],
    [['schedule', 'explain', '--app', APP, '--from', '2027-03-27T12:00'], /--from "2027-03-27T12:00" is not an instant.*\n.*Z or an offset/],
  ];
  for (const [argv, message] of cases) {
    const io = testIo();
    assert.equal(await main(argv, io, commands), 2, argv.join(' '));
    assert.match(io.stderr.text, message);
  }
});

test('--from counts from that instant, and the DST line says what the next change does to each fixed time', async () => {
  const io = testIo();
  assert.equal(await main(['schedule', 'explain', '--app', APP, '--count', '1', '--from', '2027-10-30T12:00Z'], io, commands), 0, io.stderr.text);
  assert.equal(io.stdout.lines()[0], 'app "schedule-fixture": 3 schedule entries, time zone Europe/Berlin, fire times after 2027-10-30T12:00:00Z');
  assert.match(io.stdout.text, /\nnightly → reports.generate\("users"\)\n.*\n.*\n {2}DST: on 2027-10-31, 02:30 happens twice in Europe\/Berlin \(clocks go back from 03:00 to 02:00\): runs once, at the first \(02:30:00 \+02:00\)\n {2}next fire time \(Europe\/Berlin, then UTC\):\n {4}2027-10-31 02:30:00 \+02:00 {3}2027-10-31T00:30:00Z\n/);
  assert.doesNotMatch(io.stdout.text, /tokens → .*\n(?:.*\n){2} {2}DST/, 'an interval ignores the zone: no DST line');
});

test('impossible dates are reported per entry, named, and the entries after them are still explained', async () => {
  const io = testIo();
  assert.equal(await main(['schedule', 'explain', '--app', IMPOSSIBLE_APP, '--count', '1'], io, commands), 2);
  assert.match(io.stdout.text, /\nfeb-30: INVALID\n {2}schedule\[0\] "feb-30" "0 0 30 feb \*": day 30 never occurs in February, so this schedule would never run\n/);
  assert.match(io.stdout.text, /\nshort-months: INVALID\n {2}schedule\[1\] "short-months" "0 0 31 4,6,9,11 \*": day 31 never occurs in April, June, September or November/);
  assert.match(io.stdout.text, /\nafter → reports.generate\(\)\n {2}at 06:00, UTC/);
  assert.equal(io.stderr.text, 'error: 2 of 3 schedule entries are invalid; beat would not start\n');
});

test('explain shows an entry\'s own zone, its jitter (and when each run is sent), its overlap policy and its dates', async () => {
  const io = testIo();
  assert.equal(await main(['schedule', 'explain', '--app', ZONES_APP, '--count', '2'], io, commands), 0, io.stderr.text);
  assert.match(io.stdout.text, /\nny-open → reports\.generate\("us"\)\n {2}at 09:30 on Monday through Friday, America\/New_York \('30 9 \* \* mon-fri'\)\n {2}zone: America\/New_York, the entry's own \(the app's is Europe\/Berlin\)\n/);
  assert.match(io.stdout.text, /\n {2}overlap: skip \(no run while the last one has not finished\)\n {2}jitter: each run is sent a fixed offset of up to 1m after its fire time, the same on every replica\n/);
  assert.match(io.stdout.text, /\n {2}next 2 fire times \(America\/New_York, then UTC, then when it is sent\):\n {4}2025-03-31 09:30:00 -04:00 {3}2025-03-31T13:30:00Z {3}sent 2025-03-31T13:30:\d\d(\.\d+)?Z\n/);
  assert.match(io.stdout.text, /\nspring → reports\.generate\(\)\n(?:.*\n){2} {2}runs from 2025-04-01T00:00:00Z until 2025-04-02T23:00:00Z\n(?:.*\n)? {2}next 2 fire times \(Europe\/Berlin, then UTC\):\n {4}2025-04-01 06:00:00 \+02:00/);
  assert.match(io.stdout.text, /\nended → reports\.generate\(\)\n(?:.*\n)*? {2}no fire time left: the entry has ended\n/);
  const json = testIo();
  assert.equal(await main(['schedule', 'explain', '--app', ZONES_APP, '--count', '1', '--json'], json, commands), 0);
  const [open] = json.stdout.records() as [{ timezone: string; jitterMs: number; overlap: string; next: { utc: string; sendAt: string }[] }];
  assert.deepEqual([open.timezone, open.jitterMs, open.overlap], ['America/New_York', 60_000, 'skip']);
  const offset = Date.parse(open.next[0]?.sendAt ?? '') - Date.parse(open.next[0]?.utc ?? '');
  assert.ok(offset >= 0 && offset < 60_000, `the run is sent within the jitter after its fire time: ${offset}`);
});
