import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrate, quoteIdent, ScheduleRecords, Store, TaskRuns } from '@nightshift/store';
import { createLogger } from '@nightshift/telemetry';
import { randomPrefix, requireServices } from '@nightshift/test-helpers';
import { HistoryRetention } from '../src/history/retention.ts';

test('retention prunes the schedules\' fires with the task history, by the same setting', async () => {
  const { databaseUrl } = await requireServices('postgres');
  const store = new Store({ url: databaseUrl, schema: randomPrefix('retention') });
  try {
    await migrate(store);
    const taskRuns = new TaskRuns(store);
    const scheduleRecords = new ScheduleRecords(store);
    const at = new Date().toISOString();
    await taskRuns.record([{ runId: 'old-run', state: 'succeeded', at, name: 'echo', attempt: 1 }, { runId: 'new-run', state: 'succeeded', at, name: 'echo', attempt: 1 }]);
    await scheduleRecords.recordFires([
      { entry: 'nightly', fireTime: at, origin: 'schedule', state: 'sent', runId: 'old-run' },
      { entry: 'nightly', fireTime: at, origin: 'schedule', state: 'paused' },
    ]);
    await store.query(`UPDATE ${store.table('task_runs')} SET updated_at = now() - interval '8 days' WHERE id = 'old-run'`);
    await store.query(`UPDATE ${store.table('schedule_fires')} SET recorded_at = now() - interval '8 days' WHERE state = 'sent'`);

    const retention = new HistoryRetention({ taskRuns, scheduleRecords, logger: createLogger({ service: 'retention-test', level: 'silent' }), retentionMs: 7 * 86_400_000 });
    assert.equal(await retention.prune(), 1);
    assert.equal(await taskRuns.get('old-run'), undefined);
    assert.deepEqual((await scheduleRecords.fires('nightly')).map((f) => f.state), ['paused']);
  } finally {
    await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(store.schema)} CASCADE`).catch(() => {});
    await store.close();
  }
});
