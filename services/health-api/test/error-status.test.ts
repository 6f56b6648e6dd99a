import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CLASSES, listedOutcome } from '@nightshift/core';
import { exportedErrorClasses } from '@nightshift/test-helpers';
import { errorResponse } from '../src/http/api-error.ts';

test('every error class any package or service exports is in the table, and the API answers it with its status', async () => {
  const classes = await exportedErrorClasses();
  // The walk finds at least the classes of the table (else it is broken, and would pass without looking).
  for (const { cls, name } of ERROR_CLASSES) assert.ok(classes.has(cls), `${name} is in the table but no package exports it`);
  for (const [cls, exportedAs] of classes) {
    const outcome = listedOutcome(cls);
    assert.ok(outcome !== undefined, `${exportedAs.join(', ')} is not in core's table of error outcomes (error-outcomes.ts)`);
    const { status, body } = errorResponse(Object.create(cls.prototype));
    assert.equal(status, outcome.status, exportedAs.join(', '));
    if (status === 500) assert.equal(body.error.code, 'E_INTERNAL', 'a 500 keeps its internals to itself');
  }
});
