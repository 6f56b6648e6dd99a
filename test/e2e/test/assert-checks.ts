import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { TestContext } from 'node:test';
import type { Check, ScenarioResult } from '../src/scenario.ts';

/**
 * Every check of a scenario must hold; the message lists those that did not, with their numbers, and names the
 * services' log file, which is kept. When all hold the log file is deleted.
 */
export function assertChecks(result: ScenarioResult<unknown>): void {
  const failed = result.checks.filter((c) => !c.ok);
  assert.ok(result.checks.length > 0, 'the scenario made no checks');
  assert.deepEqual(failed.map(describe), [], `failed checks (service logs: ${result.logFile})`);
  rmSync(result.logFile, { force: true });
}

function describe(check: Check): string {
  return `${check.claim}: ${check.evidence}`;
}

/** The scenario's story, shown by the spec reporter under the test. */
export function narrateTo(t: TestContext): (line: string) => void {
  return (line) => t.diagnostic(line);
}
