import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DeadLetters } from '@nightshift/store';
import { echoDeadLetter } from './fixtures/dead-letters.ts';
import { eventually, installation, type Installation } from './support.ts';

let site: Installation;

before(async () => {
  site = await installation();
  await site.worker();
});
after(async () => {
  await site?.close();
});

interface Run { id: string; state: string; args: unknown[] | null; kwargs: Record<string, unknown> | null; origin: Record<string, unknown> | null }

test('a requeued dead letter\'s new run has its args and kwargs in the history (the replay announces task.sent)', async () => {
  const deadLetters = new DeadLetters(site.api.room.store);
  const { id } = await deadLetters.record(echoDeadLetter(['usage', 2], { region: 'eu' }));
  const requeued = await site.request('POST', `/api/dead-letters/${id}/requeue`, {});
  assert.equal(requeued.status, 200);
  const { replayId } = requeued.json as { replayId: string };
  const run = await eventually('the replay to succeed', async () => {
    const response = await site.request('GET', `/api/tasks/${replayId}`);
    return response.status === 200 && (response.json as Run).state === 'succeeded' ? response.json as Run : undefined;
  });
  assert.deepEqual(run.args, ['usage', 2]);
  assert.deepEqual(run.kwargs, { region: 'eu' });
  assert.deepEqual(run.origin, { type: 'replay', deadLetterId: id, originalId: (await deadLetters.get(id)).messageId });
});
