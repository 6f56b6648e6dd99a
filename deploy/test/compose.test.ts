// docker-compose.yml: valid for Compose, the whole stack, settings by the README's variable names.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { expectSuccess, has, REPO_ROOT, run } from './tools.ts';

interface Service {
  image?: string; build?: unknown; command?: string[]; container_name?: string; ports?: string[];
  environment?: Record<string, string>; healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>; volumes?: string[]; stop_grace_period?: string;
}
interface Compose { services: Record<string, Service>; volumes: Record<string, unknown> }

const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as Compose;
const NIGHTSHIFT = ['beat-a', 'beat-b', 'worker', 'alerter', 'health-api'];

test('docker-compose config accepts the file', () => {
  // The standalone docker-compose (Debian's) or the docker CLI's plugin, whichever is installed.
  const [tool, args] = has('docker-compose', ['version']) || !has('docker', ['compose', 'version'])
    ? ['docker-compose', ['-f', COMPOSE_FILE, 'config', '-q']] as const
    : ['docker', ['compose', '-f', COMPOSE_FILE, 'config', '-q']] as const;
  expectSuccess(run(tool, args, { cwd: REPO_ROOT }), `${tool} config`);
});

test('the full stack: servers, observability and every Nightshift service', () => {
  for (const name of ['rabbitmq', 'redis', 'postgres', 'prometheus', 'grafana', 'jaeger', 'mailpit', ...NIGHTSHIFT]) {
    assert.ok(compose.services[name], `service ${name}`);
  }
  assert.ok(compose.services.rabbitmq?.ports?.some((p) => p.endsWith(':15692')), 'RabbitMQ Prometheus plugin port');
  assert.match(readFileSync(join(REPO_ROOT, 'deploy', 'rabbitmq', 'enabled_plugins'), 'utf8'), /rabbitmq_prometheus/);
  assert.ok(compose.services.rabbitmq?.volumes?.includes('./deploy/rabbitmq/advanced.config:/etc/rabbitmq/advanced.config:ro'), 'RabbitMQ advanced.config mounted');
  assert.match(readFileSync(join(REPO_ROOT, 'deploy', 'rabbitmq', 'advanced.config'), 'utf8'), /\{dead_letter_worker_publisher_confirm_timeout, 20000\}/, 'retries resume within ~20 s of a leader failover');
  assert.ok(compose.services.grafana?.volumes?.some((v) => v.startsWith('./grafana/provisioning:')), 'Grafana provisioning mounted');
  assert.ok(compose.services.prometheus?.volumes?.some((v) => v.startsWith('./deploy/prometheus:')), 'Prometheus config mounted');
});

test('the Nightshift services: one image, healthchecks, depends_on conditions, a scalable worker', () => {
  for (const name of NIGHTSHIFT) {
    const service = compose.services[name] ?? {};
    assert.equal(service.image, 'nightshift:local', name);
    assert.deepEqual(service.build, { context: '.', dockerfile: 'deploy/Dockerfile' }, name);
    assert.ok(service.healthcheck?.test.join(' ').includes('healthcheck.ts'), `${name}: healthcheck`);
    const conditions = Object.values(service.depends_on ?? {}).map((d) => d.condition);
    assert.ok(conditions.includes('service_healthy'), `${name}: waits for healthy dependencies`);
    assert.equal(service.environment?.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://jaeger:4318', `${name}: traces`);
  }
  const worker = compose.services.worker ?? {};
  assert.equal(worker.container_name, undefined, 'a fixed container_name prevents --scale');
  assert.equal(worker.ports, undefined, 'a published port prevents --scale');
  assert.ok(parseInt(worker.stop_grace_period ?? '0', 10) > parseInt(worker.environment?.NIGHTSHIFT_WORKER_GRACE?.match(/:-(\d+)s/)?.[1] ?? '30', 10));
  assert.equal(compose.services.alerter?.environment?.NIGHTSHIFT_SMTP_URL, 'smtp://mailpit:1025');
  assert.deepEqual(compose.services['health-api']?.command?.[0], 'health-api');
});

test('every Nightshift setting is a variable the READMEs or the services document', () => {
  const documented = new Set<string>();
  const sources = [join(REPO_ROOT, 'README.md'), ...readdirSync(join(REPO_ROOT, 'services')).flatMap((s) => [
    join(REPO_ROOT, 'services', s, 'README.md'), join(REPO_ROOT, 'services', s, 'src', 'config.ts'),
  ])].filter((p) => existsSync(p));
  for (const file of sources) for (const [name] of readFileSync(file, 'utf8').matchAll(/\b(?:NIGHTSHIFT|OTEL)_[A-Z_]+[A-Z]\b/g)) documented.add(name);
  for (const name of NIGHTSHIFT) {
    for (const variable of Object.keys(compose.services[name]?.environment ?? {})) {
      assert.ok(documented.has(variable), `${name}: ${variable} is not a documented variable`);
    }
  }
});

test('the cluster profile: three RabbitMQ nodes clustered by name, each with the settings of the single node', () => {
  const nodes = ['rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3'];
  const conf = readFileSync(join(REPO_ROOT, 'deploy', 'rabbitmq', 'cluster.conf'), 'utf8');
  nodes.forEach((name, i) => {
    const node = (compose.services[name] ?? {}) as Service & { profiles?: string[]; hostname?: string };
    assert.deepEqual(node.profiles, ['cluster'], `${name}: only with --profile cluster`);
    assert.equal(node.hostname, name, `${name}: its node name follows the hostname`);
    assert.ok(node.ports?.includes(`127.0.0.1:${5681 + i}:5672`), `${name}: AMQP on loopback ${5681 + i}`);
    for (const file of ['enabled_plugins', 'advanced.config']) assert.ok(node.volumes?.includes(`./deploy/rabbitmq/${file}:/etc/rabbitmq/${file}:ro`), `${name}: ${file}`);
    assert.ok(node.volumes?.includes('./deploy/rabbitmq/cluster.conf:/etc/rabbitmq/conf.d/20-cluster.conf:ro'), `${name}: cluster.conf`);
    assert.ok(node.volumes?.includes(`${name}-data:/var/lib/rabbitmq`) && `${name}-data` in compose.volumes, `${name}: its own data volume`);
    assert.match(conf, new RegExp(`classic_config\\.nodes\\.${i + 1} = rabbit@${name}$`, 'm'), `${name} is in cluster.conf`);
  });
  const cookies = new Set(nodes.map((name) => compose.services[name]?.environment?.RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS));
  assert.equal(cookies.size, 1, 'one Erlang cookie for the three nodes');
});

test('named volumes for every stateful server', () => {
  for (const volume of ['rabbitmq-data', 'redis-data', 'postgres-data', 'prometheus-data', 'grafana-data']) {
    assert.ok(volume in compose.volumes, volume);
  }
});
