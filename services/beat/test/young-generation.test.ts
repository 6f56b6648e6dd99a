import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { BUILDING_YOUNG_GENERATION_MB, holdYoungGeneration, youngGenerationMb } from '../src/young-generation.ts';

// What a leader's start does: many small objects that all live on, built a page at a time between turns.
async function buildLasting(megabytes: number, into: unknown[]): Promise<number> {
  let largest = youngGenerationMb();
  for (let page = 0; page < megabytes * 4; page++) {
    for (let i = 0; i < 1_000; i++) into.push({ name: `entry-${page}-${i}`, fields: [page, i, [i % 60], [page % 24]], at: page * 1_000 + i + 0.5 });
    await turn();
    largest = Math.max(largest, youngGenerationMb());
  }
  return largest;
}

test('while held, V8\'s young generation does not grow past the cap however much survives; released, it grows again', async () => {
  const kept: unknown[] = [];
  const release = holdYoungGeneration();
  let held: number;
  try {
    held = await buildLasting(120, kept);
  } finally {
    release();
  }
  // V8 grows it by doubling: past the cap would be twice it.
  assert.ok(held < 2 * BUILDING_YOUNG_GENERATION_MB, `the young generation grew to ${held} MB while held`);
  const after = await buildLasting(120, kept);
  assert.ok(after >= 2 * BUILDING_YOUNG_GENERATION_MB, `the young generation stayed at ${after} MB once released`);
});
