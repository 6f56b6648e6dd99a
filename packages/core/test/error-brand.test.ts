import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as core from '@nightshift/core';
import {
  BadParameterError, CodeEntryReadOnlyError, CommandFailure, ConfigError, deserializeError, errorOutcome, EXIT_FAILURE, EXIT_USAGE,
  IgnoreRefusedError, NightshiftError, PermanentError, ScheduleConflictError, ScheduleNameTakenError, ScheduleNotFoundError,
  serializeError, StoreUnavailableError, UsageError,
} from '@nightshift/core';

// A second copy of the whole package, as an app that brings its own @nightshift/core loads it: other files,
// other module instances, other classes.
let copyDir: string;
let copy: typeof core;
before(async () => {
  copyDir = mkdtempSync(join(tmpdir(), 'nightshift-core-copy-'));
  cpSync(fileURLToPath(new URL('../src/', import.meta.url)), copyDir, { recursive: true });
  copy = await import(pathToFileURL(join(copyDir, 'index.ts')).href) as typeof core;
});
after(() => rmSync(copyDir, { recursive: true, force: true }));

test('the second copy really has other classes', () => {
  assert.notEqual(copy.ConfigError, ConfigError);
  assert.notEqual(Object.getPrototypeOf(new copy.ConfigError('x')), ConfigError.prototype);
});

test('instanceof holds across the two copies, both ways, up the hierarchy', () => {
  const theirs = new copy.ConfigError('NIGHTSHIFT_PREFIX: bad', { field: 'NIGHTSHIFT_PREFIX' });
  assert.ok(theirs instanceof ConfigError);
  assert.ok(theirs instanceof NightshiftError);
  assert.ok(theirs instanceof Error);
  assert.ok(!(theirs instanceof PermanentError));
  assert.ok(!(theirs instanceof BadParameterError));
  const ours = new StoreUnavailableError('down');
  assert.ok(ours instanceof copy.StoreUnavailableError);
  assert.ok(ours instanceof copy.NightshiftError);
  assert.ok(!(ours instanceof copy.ConfigError));
  assert.ok(new copy.UsageError('bad flag') instanceof UsageError);
});

test('a subclass of a branded class keeps an ordinary instanceof of its own, and its parents recognise it', () => {
  class CardDeclined extends PermanentError {}
  class OtherFailure extends PermanentError {}
  const declined = new CardDeclined('declined');
  assert.ok(declined instanceof CardDeclined);
  assert.ok(declined instanceof PermanentError);
  assert.ok(declined instanceof copy.PermanentError);
  assert.ok(declined instanceof copy.NightshiftError);
  assert.ok(!(declined instanceof OtherFailure));
  assert.ok(!(new PermanentError('plain') instanceof CardDeclined));
  assert.equal(declined.code, 'E_PERMANENT');
  // A subclass of the other copy's class.
  class TheirDeclined extends copy.PermanentError {}
  assert.ok(new TheirDeclined('x') instanceof PermanentError);
  assert.ok(!(new TheirDeclined('x') instanceof CardDeclined));
});

test('values that are not errors are no instance of anything', () => {
  for (const value of [null, undefined, 'E_CONFIG', 42, { code: 'E_CONFIG' }, new Error('E_CONFIG')]) {
    assert.ok(!(value instanceof ConfigError), String(value));
    assert.ok(!(value instanceof NightshiftError), String(value));
  }
});

test('the outcome of an error of the other copy comes from its class, through either copy\'s table', () => {
  assert.deepEqual(errorOutcome(new copy.BadParameterError('limit', 'too big')), { status: 400, exitCode: EXIT_USAGE });
  assert.deepEqual(copy.errorOutcome(new IgnoreRefusedError([])), { status: 409, exitCode: EXIT_USAGE });
  assert.deepEqual(errorOutcome(new copy.StoreUnavailableError('down')), { status: 503, exitCode: EXIT_FAILURE });
  class CardDeclined extends copy.PermanentError {}
  assert.deepEqual(errorOutcome(new CardDeclined('declined')), { status: 500, exitCode: EXIT_FAILURE });
  assert.deepEqual(errorOutcome(new Error('plain')), { status: 500, exitCode: EXIT_FAILURE });
  assert.deepEqual(errorOutcome('not even an error'), { status: 500, exitCode: EXIT_FAILURE });
});

test('codes come from the class unless given where thrown', () => {
  assert.equal(new BadParameterError('limit', 'too big').code, 'E_BAD_PARAMETER');
  assert.equal(new UsageError('x').code, 'E_USAGE');
  assert.equal(new UsageError('x', undefined, { code: 'E_DEAD_LETTER_NOT_FOUND' }).code, 'E_DEAD_LETTER_NOT_FOUND');
  assert.equal(new CommandFailure('x', { code: 'E_SERVICE_START' }).code, 'E_SERVICE_START');
  assert.equal(new NightshiftError('x').code, 'E_NIGHTSHIFT');
});

test('store and command errors survive serialisation as their class', () => {
  const copyOf = (error: Error) => deserializeError(serializeError(error));
  const refused = copyOf(new IgnoreRefusedError([{ id: '7', by: 'ana', at: null, note: null }]));
  assert.ok(refused instanceof IgnoreRefusedError);
  assert.deepEqual((refused as IgnoreRefusedError).ignored, [{ id: '7', by: 'ana', at: null, note: null }]);
  const bad = copyOf(new BadParameterError('limit', 'too big'));
  assert.ok(bad instanceof BadParameterError);
  assert.equal((bad as BadParameterError).parameter, 'limit');
  assert.ok(copyOf(new UsageError('bad flag', 'see --help')) instanceof UsageError);
});

test('schedule errors: their codes and outcomes, and the conflict keeps both versions through serialisation', () => {
  const errors = [new ScheduleNotFoundError('nightly'), new ScheduleConflictError('nightly', 3, 4), new ScheduleNameTakenError('nightly', 'code'), new CodeEntryReadOnlyError('nightly')];
  assert.deepEqual(errors.map((e) => e.code), ['E_SCHEDULE_NOT_FOUND', 'E_SCHEDULE_CONFLICT', 'E_SCHEDULE_NAME_TAKEN', 'E_SCHEDULE_IN_CODE']);
  assert.deepEqual(errors.map((e) => errorOutcome(e).status), [404, 409, 409, 409]);
  assert.ok(errors.every((e) => errorOutcome(e).exitCode === EXIT_USAGE));
  const conflict = deserializeError(serializeError(errors[1]));
  assert.ok(conflict instanceof ScheduleConflictError);
  assert.deepEqual([conflict.entry, conflict.expectedVersion, conflict.currentVersion], ['nightly', 3, 4]);
  assert.match((errors[2] as ScheduleNameTakenError).message, /^name: .*in the app's code/);
  assert.equal((errors[2] as ScheduleNameTakenError).field, 'name');
  assert.match((errors[3] as CodeEntryReadOnlyError).message, /change it in the app's code; pause, resume, run-now and backfill work/);
});
