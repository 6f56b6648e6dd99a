import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CLASSES, listedOutcome } from '@nightshift/core';
import { exportedErrorClasses } from '@nightshift/test-helpers';
import { defineCommand } from '../src/command.ts';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';

test('every error class any package or service exports is in the table, and the CLI exits with its exit code', async () => {
  const classes = await exportedErrorClasses();
  // The walk finds at least the classes of the table (else it is broken, and would pass without looking).
  for (const { cls, name } of ERROR_CLASSES) assert.ok(classes.has(cls), `${name} is in the table but no package exports it`);
  for (const [cls, exportedAs] of classes) {
    const outcome = listedOutcome(cls);
    assert.ok(outcome !== undefined, `${exportedAs.join(', ')} is not in core's table of error outcomes (error-outcomes.ts)`);
    const thrown = Object.create(cls.prototype) as Error;
    const fail = defineCommand({ name: 'fail', summary: 'fails', usage: 'nightshift fail', options: {}, run: () => { throw thrown; } });
    assert.equal(await main(['fail'], testIo(), [fail]), outcome.exitCode, exportedAs.join(', '));
  }
});
