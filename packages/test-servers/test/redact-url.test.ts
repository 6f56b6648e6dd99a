import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactUrl } from '../src/redact-url.ts';

test('user info is dropped, so a password is never printed', () => {
  assert.equal(redactUrl('amqp://guest:guest@127.0.0.1:5672'), 'amqp://127.0.0.1:5672');
  assert.equal(redactUrl('redis://:hunter2@redis:6379/0'), 'redis://redis:6379/0');
  assert.equal(redactUrl('postgres://postgres@127.0.0.1:5432/postgres'), 'postgres://127.0.0.1:5432/postgres');
});

test('secret-looking query parameters are masked, others kept', () => {
  assert.equal(redactUrl('postgres://db/app?sslmode=require&password=hunter2'), 'postgres://db/app?sslmode=require&password=***');
  assert.equal(redactUrl('amqp://rabbit?heartbeat=10'), 'amqp://rabbit?heartbeat=10');
});

test('an unparseable URL is not echoed', () => {
  assert.equal(redactUrl('not a url :hunter2@'), '(an unparseable URL)');
});
