// Nightshift works out cron fire times itself (a zone's offsets in a table, the fields as lookup tables); croner,
// configured for Vixie's semantics (DESIGN.md, "Beat"), is the oracle: the same fire times, forwards and backwards,
// for random crons in zones with DST (whole-hour, half-hour, midnight and Southern-hemisphere changes), asked from
// random instants around their transitions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cron, CronPattern } from 'croner';
import { cron, dueRuns, nextFireTime, type CronSchedule } from '@nightshift/schedule';
import { seeded } from './support.ts';

const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Tehran', 'Pacific/Chatham', 'America/St_Johns', 'Africa/Casablanca', 'Asia/Kolkata', 'UTC', 'America/Havana'];
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * The pattern croner is given for Vixie's semantics. croner's `fixedTimeRule: 'no-wildcard'` counts a step such as
 * `0-23/2` as wild, where Vixie cron (and DESIGN.md) count it as fixed-time; so a minute or hour field that does not
 * start with `*` is handed over as its explicit list of values. Days, months and weekdays are lists unless exactly
 * `*`, which keeps Vixie's OR of day of month and week (`domAndDow: false`).
 */
function oraclePattern(schedule: CronSchedule): string {
  const { minute, hour, dayOfMonth, month, dayOfWeek } = schedule.fields;
  const wildOrList = (field: typeof minute) => (field.wild ? field.text : field.values.join(','));
  const starOrList = (field: typeof minute) => (field.star ? '*' : field.values.join(','));
  return [wildOrList(minute), wildOrList(hour), starOrList(dayOfMonth), starOrList(month), starOrList(dayOfWeek)].join(' ');
}

function oracle(schedule: CronSchedule, zone: string): Cron {
  return new Cron(oraclePattern(schedule), { timezone: zone, mode: '5-part', domAndDow: false, fixedTimeRule: 'no-wildcard', paused: true });
}

function randomCron(rnd: () => number): string {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)] as T;
  const n = (max: number) => Math.floor(rnd() * max);
  const minute = pick(['*', '*/15', `${n(60)}`, `${n(30)},${30 + n(30)}`, `*/${1 + n(20)}`, `${n(10)}-${20 + n(40)}/7`, '0,30']);
  const hour = pick(['*', `${n(24)}`, '1,2,3', '0-23/2', `${n(4)}`, '*/3', '2', '23', '0', `${n(12)}-${12 + n(12)}`]);
  const dom = pick(['*', '*', '*', `${1 + n(28)}`, '1,15', '31', '29']);
  const month = pick(['*', '*', '*', `${1 + n(12)}`, '3,10', '4,9,11']);
  const dow = pick(['*', '*', '*', `${n(7)}`, 'mon-fri', '0,6']);
  const expression = `${minute} ${hour} ${dom} ${month} ${dow}`;
  try {
    cron(expression);
    return expression;
  } catch {
    // A day that never occurs in its months is refused (cron-dates.ts): another.
    return randomCron(rnd);
  }
}

/** Instants near each zone's offset changes of 2025–2027 (and some anywhere in those years). */
function instants(zone: string, rnd: () => number): number[] {
  const out: number[] = [];
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const offset = (ms: number) => format.format(ms).split('GMT')[1];
  for (let day = Date.parse('2025-01-01T00:00Z'); day < Date.parse('2027-12-31T00:00Z'); day += DAY_MS) {
    if (offset(day) !== offset(day + DAY_MS)) for (let k = 0; k < 6; k++) out.push(day - DAY_MS + Math.floor(rnd() * 3 * DAY_MS / MINUTE_MS) * MINUTE_MS + (rnd() < 0.3 ? Math.floor(rnd() * MINUTE_MS) : 0));
  }
  for (let k = 0; k < 10; k++) out.push(Date.parse('2025-01-01T00:00Z') + Math.floor(rnd() * 3 * 365 * DAY_MS));
  return out;
}

test('croner reads each field as Nightshift\'s parser does, and counts the same crons fixed-time', () => {
  const rnd = seeded(7);
  const set = (flags: readonly number[]) => flags.flatMap((flag, value) => (flag ? [value] : []));
  for (let k = 0; k < 2_000; k++) {
    const schedule = cron(randomCron(rnd));
    const pattern = new CronPattern(oraclePattern(schedule), undefined, { mode: '5-part', fixedTimeRule: 'no-wildcard' });
    const { fields } = schedule;
    const where = schedule.expression;
    assert.deepEqual(set(pattern.minute), fields.minute.values, where);
    assert.deepEqual(set(pattern.hour), fields.hour.values, where);
    assert.deepEqual(set(pattern.day).map((index) => index + 1), fields.dayOfMonth.values, where);
    assert.deepEqual(set(pattern.month).map((index) => index + 1), fields.month.values, where);
    assert.deepEqual(set(pattern.dayOfWeek).filter((value) => value < 7), fields.dayOfWeek.values, where);
    assert.equal(pattern.isFixedTime, schedule.fixedTime, where);
  }
});

test('the next fire times agree with croner, across every DST change of 2025-2027 in a dozen zones', () => {
  const rnd = seeded(2026);
  let compared = 0;
  for (const zone of ZONES) {
    for (const at of instants(zone, rnd)) {
      for (let k = 0; k < 4; k++) {
        const expression = randomCron(rnd);
        const schedule = cron(expression);
        const job = oracle(schedule, zone);
        let ours = at;
        let theirs = at;
        for (let step = 0; step < 6; step++) {
          ours = nextFireTime(schedule, ours, zone);
          theirs = (job.nextRun(new Date(theirs)) as Date).getTime();
          assert.equal(new Date(ours).toISOString(), new Date(theirs).toISOString(), `${expression} in ${zone}, run ${step + 1} after ${new Date(at).toISOString()}`);
          compared += 1;
        }
      }
    }
  }
  assert.ok(compared > 10_000, `compared ${compared}`);
});

test('the latest fire times agree with croner\'s previous runs', () => {
  const rnd = seeded(18);
  for (const zone of ZONES) {
    for (const at of instants(zone, rnd).slice(0, 20)) {
      const expression = randomCron(rnd);
      const schedule = cron(expression);
      const theirs = oracle(schedule, zone).previousRuns(5, new Date(at + 1)).map((date) => date.toISOString());
      const ours = dueRuns(schedule, at - 400 * DAY_MS, at, zone, 5).newest.map((ms) => new Date(ms).toISOString()).reverse();
      assert.deepEqual(ours, theirs.filter((iso) => Date.parse(iso) > at - 400 * DAY_MS), `${expression} in ${zone} until ${new Date(at).toISOString()}`);
    }
  }
});
