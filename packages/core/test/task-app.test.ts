import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, defineApp, defineTask, GLOBAL_DEFAULTS, resolveTaskSettings, type TaskArgs } from '@nightshift/core';

const generate = defineTask({ name: 'reports.generate', run: (_ctx, type: string, day?: number) => `${type}:${day ?? 0}` });
const sync = defineTask({ name: 'users.sync', queue: 'users', softTimeLimit: '10s', timeLimit: '15s', retry: { maxRetries: 1 }, run: async () => ({ status: 'synced' as const }) });

test('a task keeps its options, frozen, with parsed limits', () => {
  assert.equal(sync.name, 'users.sync');
  assert.equal(sync.softTimeLimitMs, 10_000);
  assert.equal(sync.timeLimitMs, 15_000);
  assert.ok(Object.isFrozen(sync));
});

test('task argument types are checked at compile time', () => {
  const ok: TaskArgs<typeof generate> = ['usage', 3];
  // @ts-expect-error a number is not the report type
  const wrong: TaskArgs<typeof generate> = [42];
  assert.ok(ok && wrong);
});

test('bad task options name the task and the field', () => {
  assert.throws(() => defineTask({ name: '', run: () => 1 }), /defineTask: name "" must be/);
  assert.throws(() => defineTask({ name: 'a', timeLimit: 'forever', run: () => 1 }), /task "a" timeLimit: "forever" is not a duration/);
  assert.throws(() => defineTask({ name: 'a', queue: 'has space', run: () => 1 }), /task "a" queue: "has space" is not a queue name/);
  assert.throws(() => defineTask({ name: 'a', run: 'nope' } as never), /task "a": run must be a function/);
});

test('an app finds its tasks and applies defaults task > app > global', () => {
  const app = defineApp({ name: 'shop', tasks: [generate, sync], defaults: { queue: 'reports', softTimeLimit: '1m', retry: { maxRetries: 9 } } });
  assert.equal(app.task('users.sync'), sync);
  assert.equal(app.task('missing'), undefined);
  assert.equal(app.timezone, 'UTC');
  const g = resolveTaskSettings(app, generate);
  assert.equal(g.queue, 'reports');
  assert.equal(g.softTimeLimitMs, 60_000);
  assert.equal(g.timeLimitMs, GLOBAL_DEFAULTS.timeLimitMs);
  assert.deepEqual(g.limitsFromGlobalDefault, { soft: false, hard: true });
  assert.equal(g.retry.maxRetries, 9);
  const s = resolveTaskSettings(app, sync);
  assert.equal(s.queue, 'users');
  assert.equal(s.retry.maxRetries, 1);
});

test('app errors say what is wrong', () => {
  assert.throws(() => defineApp({ name: 'x', tasks: [generate, generate] }), /two tasks are named "reports.generate"/);
  assert.throws(() => defineApp({ name: 'x', tasks: [generate], timezone: 'Mars/Olympus' }), (e: unknown) => e instanceof ConfigError && /unknown time zone "Mars\/Olympus"/.test(e.message));
  assert.throws(() => defineApp({ name: 'x', tasks: [generate], schedule: [{ name: 'nightly', task: 'nope', schedule: '0 0 * * *' }] }), /schedule\[0\] \(nightly\): task "nope" is not one of this app's tasks/);
  assert.throws(() => defineApp({ name: 'x', tasks: [{ name: 'fake' }] as never }), /tasks\[0\] is not a task made with defineTask/);
});

test('a schedule keyed by entry name (Celery\'s beat_schedule shape) is the list with each key as the name', () => {
  const app = defineApp({
    name: 'x', tasks: [generate, sync],
    schedule: {
      nightly: { task: 'reports.generate', schedule: '0 2 * * *', args: ['usage'] },
      'weekday-sync': { task: 'users.sync', schedule: '0 9 * * mon-fri', name: 'weekday-sync' },
    },
  });
  assert.deepEqual(app.schedule, [
    { name: 'nightly', task: 'reports.generate', schedule: '0 2 * * *', args: ['usage'] },
    { name: 'weekday-sync', task: 'users.sync', schedule: '0 9 * * mon-fri' },
  ]);
  assert.ok(Object.isFrozen(app.schedule));
  assert.throws(() => defineApp({ name: 'x', tasks: [generate], schedule: { nightly: { task: 'nope', schedule: '0 0 * * *' } } }),
    /schedule\[0\] \(nightly\): task "nope" is not one of this app's tasks/);
  assert.throws(() => defineApp({ name: 'x', tasks: [generate], schedule: { nightly: { name: 'daily', task: 'reports.generate', schedule: '0 0 * * *' } } }),
    /app "x" schedule.nightly: its name "daily" differs from its key/);
  assert.throws(() => defineApp({ name: 'x', tasks: [generate], schedule: { nightly: '0 0 * * *' } as never }),
    /app "x" schedule.nightly: an entry must be an object \{ task, schedule, … \}/);
});

test('a schedule that is neither a list nor an object keyed by name is refused with both forms shown', () => {
  assert.throws(() => defineApp({ name: 'x', tasks: [generate], schedule: '0 0 * * *' as never }), (e: unknown) => e instanceof ConfigError
    && e.message.includes('schedule must be a list of entries, e.g. schedule: [{ name: \'nightly\', task: \'reports.generate\', schedule: \'0 2 * * *\' }]')
    && e.message.includes('or an object keyed by entry name'));
});
