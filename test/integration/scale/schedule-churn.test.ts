// Issue 18's "adding, changing, pausing and removing 1,000 entries per second while dispatching loses no update and
// sends nothing for a removed or paused entry after the change is acknowledged", at CI's size: a beat process (as
// `nightshift beat` runs it) dispatching 1,000 runtime entries of every 2 or 3 s, while eight clients change them
// through the client library at 1,000 changes a second for 15 s. Every run is read off the entries' queue (no worker
// takes it) and judged against the changes as the clients saw them acknowledged; the definition the verdict holds
// beat to is in @nightshift/test-helpers' schedule-churn.ts. The bench's churn mode (bench/beat-scale.bench.ts,
// BEAT_SCALE_CHURN=1) is the same at scale, with figures.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { loadApp, loadConfig } from '@nightshift/core';
import { Broker, brokerOptions } from '@nightshift/broker';
import { createClient, type NightshiftClient } from '@nightshift/client';
import { migrate, Store } from '@nightshift/store';
import {
  appliedChange, eventually, judgeChurn, percentiles, randomPrefix, removePrefix, requireServices, ScheduleChurn, type ChurnApplied, type ChurnRun,
} from '@nightshift/test-helpers';
import { originOf, RunTap } from '../test/support/run-tap.ts';
import { spawnService, type ServiceProcess } from '../test/support/service-process.ts';

const APP = fileURLToPath(new URL('./fixtures/churn-app.ts', import.meta.url));
const ENTRIES = 1_000;
const RATE = 1_000;
const CHURN_MS = 15_000;
/** After the last change, how long beat may take to run every entry's last definition (on a loaded machine). */
const SETTLE_MS = 30_000;
/** The final window: every entry runs exactly its last definition (a multiple of both intervals). */
const WINDOW_MS = 6_000;
const CLIENTS = 8;

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error('cleanup failed', error));
});

test('1,000 changes a second through the client while beat dispatches: nothing sent after a pause or removal is acknowledged, no update lost', { timeout: 120_000 }, async (t) => {
  const urls = await requireServices('rabbitmq', 'redis', 'postgres');
  const prefix = randomPrefix('churn');
  const env: Record<string, string> = {
    NIGHTSHIFT_AMQP_URL: urls.amqpUrl, NIGHTSHIFT_REDIS_URL: urls.redisUrl, NIGHTSHIFT_DATABASE_URL: urls.databaseUrl,
    NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix, NIGHTSHIFT_METRICS_PORT: '0', NIGHTSHIFT_LOG_LEVEL: 'info', NIGHTSHIFT_PUBLISH_TIMEOUT: '5s',
  };
  cleanups.push(() => removePrefix(urls, prefix));
  const store = new Store({ url: urls.databaseUrl, schema: prefix });
  await migrate(store);
  await store.close();
  const config = loadConfig(env);
  const broker = await Broker.connect(brokerOptions(config, 'churn-setup'));
  await broker.ensureQueue('churn');
  await broker.close();
  const tap = await RunTap.open(urls.amqpUrl, prefix, ['churn']);
  cleanups.push(() => tap.close());

  const app = await loadApp(APP);
  const clients: NightshiftClient<typeof app>[] = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await createClient(config, { app, name: `churn-${i}`, env }));
  cleanups.push(() => Promise.all(clients.map((client) => client.close())));
  const churn = new ScheduleChurn({ schedules: clients.map((client) => client.schedules), task: 'churn.tick', count: ENTRIES, ratePerSecond: RATE });
  await churn.createAll();

  const beat: ServiceProcess = spawnService('beat', 'services/beat/src/main.ts', ['--app', APP], env);
  cleanups.push(() => beat.stop());
  await beat.line('leading', (line) => String(line.msg).startsWith('leader: dispatching'), 30_000);
  const from = Date.now();
  // The entries run before the churn starts.
  await sleep(3_000);
  const made = await churn.run(CHURN_MS);
  const churnEnd = Date.now();
  const tapped = (): ChurnRun[] => tap.runs('churn').map((run) => {
    const origin = originOf(run);
    return { entry: origin.entry, fireMs: origin.fireMs, tag: String(run.envelope.args[0]), id: run.messageId };
  });
  // Every running entry sends its last definition: then the final window, in which it sends nothing else.
  await eventually('every running entry to run its last definition', () => churn.notYetRunningLast(tapped()).length === 0, SETTLE_MS, 200)
    .catch((error: Error) => {
      throw new Error(`${error.message}: ${churn.notYetRunningLast(tapped()).slice(0, 5).join(', ')}…; ${beat.tail()}`);
    });
  const settledAt = Date.now();
  const window = { fromMs: settledAt + 500, toMs: settledAt + 500 + WINDOW_MS };
  // The window's last runs arrive.
  await sleep(window.toMs + 1_500 - Date.now());

  const runs = tapped();
  const applied = beat.lines.map(appliedChange).filter((line): line is ChurnApplied => line !== undefined);
  const verdict = judgeChurn(churn.changes(), runs, applied, from, window);
  const apply = percentiles(verdict.applyMs);
  const warnings = beat.lines.filter((line) => ['warn', 'error', 'fatal'].includes(String(line.level))).map((line) => String(line.msg));
  t.diagnostic(`${made.changes} changes in ${CHURN_MS / 1_000} s: ${made.perSecond.toFixed(0)}/s achieved (asked ${RATE}/s), ${made.failures.length} failed; `
    + `every entry ran its last definition ${settledAt - churnEnd} ms after the last change; final window: ${verdict.unsentInWindow} of ${verdict.expectedInWindow} fire times not sent`);
  t.diagnostic(`${runs.length} runs: ${verdict.judged} judged, ${verdict.inFlight} with a change in flight at their fire time; `
    + `sent after a pause/removal was acknowledged ${verdict.sentWhileStopped.length}; of a replaced definition ${verdict.staleDefinition.length}; `
    + `lost updates ${verdict.lostUpdates.length}; duplicates ${verdict.duplicates}`);
  t.diagnostic(`acknowledged change → beat applying it: p50 ${apply.p50} ms, p99 ${apply.p99} ms, max ${apply.max} ms (${apply.n} matched; not said on their own: ${JSON.stringify(verdict.unmatched)})`);
  t.diagnostic(`fire times of settled running periods unsent: ${verdict.unsentWhileRunning} of ${verdict.expectedWhileRunning}; beat's warnings: ${[...new Set(warnings)].join(' | ') || 'none'}`);

  assert.deepEqual(made.failures, [], 'every change acknowledged');
  assert.ok(made.changes >= ENTRIES, `the churn changed the entries (${made.changes} changes)`);
  assert.ok(verdict.judged > ENTRIES, `runs were judged (${verdict.judged})`);
  assert.deepEqual(verdict.sentWhileStopped.slice(0, 10), [], 'nothing sent for a fire time after its entry\'s pause or removal was acknowledged');
  assert.deepEqual(verdict.staleDefinition.slice(0, 10), [], 'nothing sent of a definition replaced before its fire time');
  assert.deepEqual(verdict.lostUpdates.slice(0, 10), [], 'every entry runs its last change');
  assert.equal(verdict.duplicates, 0, 'no run twice');
  assert.equal(beat.child.exitCode, null, `beat still runs: ${beat.tail()}`);
});
