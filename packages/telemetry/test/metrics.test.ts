import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTelemetry } from '@nightshift/telemetry';

/** Runs `promtool check metrics < file`; fails with a clear message when promtool is not installed. */
function promtoolCheck(file: string): { status: number | null; output: string } {
  const input = openSync(file, 'r');
  try {
    const result = spawnSync('promtool', ['check', 'metrics'], { stdio: [input, 'pipe', 'pipe'], encoding: 'utf8' });
    if (result.error !== undefined) {
      const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
      assert.fail(missing
        ? 'promtool is not installed: it comes with Prometheus (Debian/Ubuntu: apt-get install -y prometheus)'
        : `promtool could not run: ${result.error.message}`);
    }
    return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
  } finally {
    closeSync(input);
  }
}

test('/metrics serves a counter and a histogram that promtool accepts', async () => {
  const telemetry = await startTelemetry({ service: 'metrics-test', metricsPort: 0, logLevel: 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'nightshift-metrics-'));
  try {
    assert.ok(telemetry.metricsPort > 0, 'port 0 is replaced by the port actually bound');
    assert.equal(telemetry.metricsUrl, `http://127.0.0.1:${telemetry.metricsPort}/metrics`);

    const succeeded = telemetry.meter.createCounter('nightshift.tasks.succeeded', { description: 'Task attempts that succeeded.' });
    const runtime = telemetry.meter.createHistogram('nightshift.task.runtime', {
      description: 'Run time of task attempts, in seconds.', unit: 's', advice: { explicitBucketBoundaries: [0.1, 1, 10] },
    });
    succeeded.add(2, { task: 'send-report', queue: 'default' });
    runtime.record(0.25, { task: 'send-report', queue: 'default' });
    runtime.record(3, { task: 'send-report', queue: 'default' });

    const response = await fetch(telemetry.metricsUrl);
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.match(body, /^nightshift_tasks_succeeded_total\{task="send-report",queue="default",otel_scope_name="metrics-test"\} 2$/m);
    assert.match(body, /^nightshift_task_runtime_bucket\{.*le="1"\} 1$/m);
    assert.match(body, /^nightshift_task_runtime_count\{.*\} 2$/m);
    assert.match(body, /^target_info\{.*service_name="metrics-test"/m);

    const file = join(dir, 'metrics.txt');
    writeFileSync(file, body);
    const check = promtoolCheck(file);
    assert.equal(check.status, 0, `promtool check metrics failed:\n${check.output}\n--- scraped ---\n${body}`);
    assert.equal(check.output, '', `promtool reported problems:\n${check.output}`);

    assert.equal((await fetch(new URL('/other', telemetry.metricsUrl))).status, 404);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await telemetry.shutdown();
  }
});
