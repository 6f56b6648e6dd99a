import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clip } from '../src/text-table.ts';

test('clip keeps a short text whole, on one line', () => {
  assert.equal(clip('no answer', 20), 'no answer');
  assert.equal(clip('no\n  answer ', 20), 'no answer');
  assert.equal(clip('exactly twenty chars', 20), 'exactly twenty chars');
});

test('clip cuts a long text at a space and marks the cut with …, within max', () => {
  assert.equal(clip('unknown report type "sales"; expected one of usage', 30), 'unknown report type "sales";…');
  assert.equal(clip('unknown report typ e', 19), 'unknown report typ…', 'the cut falls on a space');
  assert.ok(clip('unknown report type "sales"; expected one of usage', 30).length <= 30);
});

test('clip cuts a long word where it must', () => {
  assert.equal(clip('a supercalifragilisticexpialidocious word', 12), 'a supercali…');
});
