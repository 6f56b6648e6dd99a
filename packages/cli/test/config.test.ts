import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';

const SECRETS = {
  NIGHTSHIFT_DATABASE_URL: 'postgres://app:db-hunter2@db.internal:5432/app',
  NIGHTSHIFT_API_TOKEN: 'tok-0123456789abcdef-secret',
  NIGHTSHIFT_DASHBOARD_USERS: 'ops:dash-hunter2,dev:other-pw',
  NIGHTSHIFT_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX',
};
const LEAKS = /db-hunter2|0123456789abcdef|dash-hunter2|other-pw|XXXXSECRETXXXX/;

/** The rows of the human table, by variable: [value, from]. */
function rows(text: string): Map<string, [string, string]> {
  return new Map(text.split('\n').slice(1).filter(Boolean).map((line) => {
    const [name, ...rest] = line.split(/ {2,}/);
    return [name as string, [rest[0] as string, rest[1] as string]];
  }));
}

test('config shows each setting in effect, masked where secret, and whether it came from the environment or the default', async () => {
  const io = testIo({ env: { ...SECRETS, NIGHTSHIFT_PREFIX: 'shop', NIGHTSHIFT_PREFX: 'typo', PATH: '/bin' } });
  assert.equal(await main(['config'], io), 0);
  assert.match(io.stdout.text, /^setting +value +from\n/);
  const table = rows(io.stdout.text);
  assert.deepEqual(table.get('NIGHTSHIFT_PREFIX'), ['shop', 'environment']);
  assert.deepEqual(table.get('NIGHTSHIFT_PUBLISH_TIMEOUT'), ['30s', 'default']);
  assert.deepEqual(table.get('NIGHTSHIFT_AMQP_URL'), ['amqp://guest:***@127.0.0.1:5672', 'default'], 'a default password is masked too');
  assert.deepEqual(table.get('NIGHTSHIFT_DATABASE_URL'), ['postgres://app:***@db.internal:5432/app', 'environment']);
  assert.deepEqual(table.get('NIGHTSHIFT_API_TOKEN'), ['***', 'environment']);
  assert.deepEqual(table.get('NIGHTSHIFT_DASHBOARD_USERS'), ['ops:***,dev:***', 'environment']);
  assert.deepEqual(table.get('NIGHTSHIFT_SLACK_WEBHOOK_URL'), ['https://hooks.slack.com/***', 'environment']);
  assert.deepEqual(table.get('NIGHTSHIFT_WORKER_CONCURRENCY'), ['(the CPU count)', 'default']);
  assert.deepEqual(table.get('NIGHTSHIFT_SMTP_URL'), ['(not set)', 'default']);
  for (const name of ['NIGHTSHIFT_HTTP_PORT', 'NIGHTSHIFT_DASHBOARD_USERS', 'NIGHTSHIFT_API_TOKEN', 'NIGHTSHIFT_DEBUG', 'NIGHTSHIFT_WORKER_METRICS_PORT']) assert.ok(table.has(name), name);
  assert.equal(io.stderr.text, 'warning: NIGHTSHIFT_PREFX is not a Nightshift setting and is ignored (did you mean NIGHTSHIFT_PREFIX?)\n');
  assert.doesNotMatch(io.stdout.text + io.stderr.text, LEAKS);
});

test('config --json prints one object per setting, secrets masked, and warns of unknown variables as JSON on stderr', async () => {
  const io = testIo({ env: { ...SECRETS, NIGHTSHIFT_HTTP_PORT: '8080', NIGHTSHIFT_HEATBEAT: '1s' } });
  assert.equal(await main(['config', '--json'], io), 0);
  const records = io.stdout.records();
  const byName = new Map(records.map((record) => [record.name, record]));
  assert.equal(byName.size, records.length, 'each setting once');
  assert.deepEqual(byName.get('NIGHTSHIFT_HTTP_PORT'), {
    name: 'NIGHTSHIFT_HTTP_PORT', value: '8080', source: 'environment', secret: false, default: '5555', readBy: ['health-api'],
    description: 'the port of the health-api\'s health checks, API and dashboard', problem: null,
  });
  assert.deepEqual(byName.get('NIGHTSHIFT_PREFIX')?.readBy, ['worker', 'beat', 'alerter', 'health-api']);
  assert.equal(byName.get('NIGHTSHIFT_API_TOKEN')?.value, '***');
  assert.equal(byName.get('NIGHTSHIFT_API_TOKEN')?.secret, true);
  assert.equal(byName.get('NIGHTSHIFT_REDACT')?.value, null);
  assert.deepEqual(io.stderr.records(), [{ warning: {
    name: 'NIGHTSHIFT_HEATBEAT', didYouMean: 'NIGHTSHIFT_HEARTBEAT',
    message: 'NIGHTSHIFT_HEATBEAT is not a Nightshift setting and is ignored (did you mean NIGHTSHIFT_HEARTBEAT?)',
  } }]);
  assert.doesNotMatch(io.stdout.text + io.stderr.text, LEAKS);
});

test('config names every bad value by its variable and exits 2, after showing the table', async () => {
  const env = { NIGHTSHIFT_LOG_LEVEL: 'loud', NIGHTSHIFT_HTTP_PORT: '70000', NIGHTSHIFT_SMTP_URL: 'http://mail:smtp-hunter2@x' };
  const io = testIo({ env });
  assert.equal(await main(['config'], io), 2);
  assert.deepEqual(rows(io.stdout.text).get('NIGHTSHIFT_LOG_LEVEL'), ['loud', 'environment: invalid']);
  assert.deepEqual(rows(io.stdout.text).get('NIGHTSHIFT_SMTP_URL'), ['http://mail:***@x/', 'environment: invalid']);
  assert.match(io.stderr.text, /^error: invalid configuration:\n {2}NIGHTSHIFT_LOG_LEVEL: "loud" must be one of trace, debug, info, warn, error, fatal, silent\n/);
  assert.match(io.stderr.text, /^ {2}NIGHTSHIFT_SMTP_URL: scheme "http:" is not one of smtp:, smtps:$/m);
  assert.match(io.stderr.text, /^ {2}NIGHTSHIFT_HTTP_PORT: "70000" must be a whole number from 0 to 65535$/m);
  assert.doesNotMatch(io.stdout.text + io.stderr.text, /smtp-hunter2/);

  const json = testIo({ env });
  assert.equal(await main(['config', '--json'], json), 2);
  assert.equal(json.stdout.records().find((r) => r.name === 'NIGHTSHIFT_LOG_LEVEL')?.problem, 'NIGHTSHIFT_LOG_LEVEL: "loud" must be one of trace, debug, info, warn, error, fatal, silent');
  const [error] = json.stderr.records();
  assert.equal((error?.error as { code: string }).code, 'E_CONFIG');
  assert.match((error?.error as { message: string }).message, /NIGHTSHIFT_HTTP_PORT: "70000"/);
});

test('config --service shows one service\'s settings, the shared ones included; a service it does not know is a usage error', async () => {
  const io = testIo({ env: { NIGHTSHIFT_HTTP_PORT: '8080' } });
  assert.equal(await main(['config', '--service', 'worker'], io), 0);
  const names = [...rows(io.stdout.text).keys()];
  assert.ok(names.includes('NIGHTSHIFT_AMQP_URL') && names.includes('NIGHTSHIFT_WORKER_GRACE') && names.includes('NIGHTSHIFT_HEARTBEAT'));
  assert.ok(!names.includes('NIGHTSHIFT_HTTP_PORT') && !names.includes('NIGHTSHIFT_DATABASE_SCHEMA'));
  assert.equal(io.stderr.text, '', 'another service\'s variable is no typo');

  const bad = testIo();
  assert.equal(await main(['config', '--service', 'workers'], bad), 2);
  assert.equal(bad.stderr.text, 'error: --service: "workers" is not a Nightshift service\nthe services are: worker, beat, alerter, health-api\n');
});

test('config --help says what it shows and that nothing but the environment is read', async () => {
  const io = testIo();
  assert.equal(await main(['config', '--help'], io), 0);
  assert.match(io.stdout.text, /^Usage: nightshift config \[--service <name>\]/);
  assert.match(io.stdout.text, /no \.env file, no flag/);
  assert.match(io.stdout.text, /--service <name> +only the settings of one service: worker, beat, alerter, health-api/);
});
