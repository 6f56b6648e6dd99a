// deploy/k8s: every manifest against the Kubernetes schemas (kubernetes-models), KEDA's by structure,
// the kustomizations complete, and what the issue asks of the Deployments.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { deployPath, expectSuccess, has, run } from './tools.ts';

interface Manifest { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown>; data?: Record<string, string> }

const K8S_DIR = deployPath('k8s');
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment, 'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap, 'v1/Secret': Secret, 'v1/Namespace': Namespace, 'v1/Service': Service,
};

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
}

function documents(text: string, where: string): unknown[] {
  return parseAllDocuments(text).map((doc) => {
    assert.equal(doc.errors.length, 0, `${where}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as unknown;
  }).filter((d) => d !== null);
}

const files = yamlFiles(K8S_DIR);
const manifests = files.filter((f) => !/kustomization\.yaml$|\.patch\.yaml$/.test(f))
  .flatMap((f) => documents(readFileSync(f, 'utf8'), relative(K8S_DIR, f)).map((m) => ({ file: relative(K8S_DIR, f), manifest: m as Manifest })));
const byName = (kind: string, name: string) => manifests.find((m) => m.manifest.kind === kind && m.manifest.metadata.name === name)?.manifest;

function validate(manifest: Manifest, where: string): void {
  if (manifest.apiVersion === 'keda.sh/v1alpha1') return validateKeda(manifest, where);
  if (manifest.apiVersion === 'rabbitmq.com/v1beta1') return validateRabbitmqCluster(manifest, where);
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  assert.ok(Model, `${where}: no schema for ${manifest.apiVersion} ${manifest.kind}`);
  assert.doesNotThrow(() => new Model(manifest as never).validate(), `${where}: ${manifest.kind} ${manifest.metadata.name}`);
}

/** The RabbitMQ Cluster Operator's CRD is not in kubernetes-models either: the fields Nightshift relies on. */
function validateRabbitmqCluster(manifest: Manifest, where: string): void {
  assert.equal(manifest.kind, 'RabbitmqCluster', `${where}: unknown rabbitmq.com kind ${manifest.kind}`);
  const spec = manifest.spec ?? {};
  assert.ok(Number.isInteger(spec.replicas) && (spec.replicas as number) >= 3 && (spec.replicas as number) % 2 === 1, `${where}: an odd number of replicas, at least 3 (quorum queues)`);
  const advanced = (spec.rabbitmq as { advancedConfig?: unknown } | undefined)?.advancedConfig;
  assert.equal(typeof advanced, 'string', `${where}: rabbitmq.advancedConfig`);
  assert.match(advanced as string, /\{dead_letter_worker_publisher_confirm_timeout, 20000\}/, `${where}: retries resume within ~20 s of a leader failover`);
  assert.match((advanced as string).trim(), /^\[[\s\S]*\]\.$/, `${where}: advancedConfig is one Erlang term ending with a dot`);
}

/** KEDA's CRDs are not in kubernetes-models: the fields KEDA requires, with their types. */
function validateKeda(manifest: Manifest, where: string): void {
  const spec = manifest.spec ?? {};
  if (manifest.kind === 'TriggerAuthentication') {
    const refs = spec.secretTargetRef as { parameter: string; name: string; key: string }[];
    assert.ok(Array.isArray(refs) && refs.length > 0, `${where}: secretTargetRef`);
    for (const ref of refs) for (const field of ['parameter', 'name', 'key'] as const) assert.equal(typeof ref[field], 'string', `${where}: secretTargetRef.${field}`);
    return;
  }
  assert.equal(manifest.kind, 'ScaledObject', `${where}: unknown KEDA kind ${manifest.kind}`);
  assert.equal(typeof (spec.scaleTargetRef as { name?: unknown })?.name, 'string', `${where}: scaleTargetRef.name`);
  for (const field of ['minReplicaCount', 'maxReplicaCount', 'pollingInterval', 'cooldownPeriod']) {
    assert.ok(Number.isInteger(spec[field]) && (spec[field] as number) >= 0, `${where}: ${field} must be a whole number`);
  }
  assert.ok((spec.minReplicaCount as number) <= (spec.maxReplicaCount as number), `${where}: minReplicaCount <= maxReplicaCount`);
  const triggers = spec.triggers as { type: string; metadata: Record<string, unknown>; authenticationRef?: { name: string } }[];
  assert.ok(Array.isArray(triggers) && triggers.length > 0, `${where}: triggers`);
  for (const trigger of triggers) {
    assert.equal(trigger.type, 'rabbitmq', `${where}: trigger type`);
    for (const value of Object.values(trigger.metadata)) assert.equal(typeof value, 'string', `${where}: trigger metadata values are strings`);
    assert.match(String(trigger.metadata.queueName), /^[a-z0-9-]+\.q\.[a-z0-9-]+$/, `${where}: queueName is a Nightshift work queue`);
    assert.match(String(trigger.metadata.mode), /^(QueueLength|MessageRate)$/);
    assert.match(String(trigger.metadata.value), /^\d+$/);
    assert.ok(trigger.authenticationRef && byName('TriggerAuthentication', trigger.authenticationRef.name), `${where}: authenticationRef names a TriggerAuthentication`);
  }
}

test('every manifest is valid against its schema', () => {
  assert.ok(manifests.length >= 10);
  for (const { file, manifest } of manifests) validate(manifest, file);
});

test('each kustomization lists every file of its folder, and each file it lists exists', () => {
  for (const file of files.filter((f) => f.endsWith('kustomization.yaml'))) {
    const dir = join(file, '..');
    const kustomization = documents(readFileSync(file, 'utf8'), file)[0] as { resources?: string[]; patches?: { path?: string }[] };
    const listed = [...(kustomization.resources ?? []), ...(kustomization.patches ?? []).map((p) => p.path ?? '')].filter((r) => !r.startsWith('..'));
    const present = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    assert.deepEqual([...listed].sort(), [...present].sort(), relative(K8S_DIR, file));
  }
});

test('kustomize builds base and overlay into valid manifests', { skip: !has('kubectl', ['version', '--client']) && 'kubectl is not installed' }, () => {
  for (const target of ['base', 'overlays/keda', 'overlays/rabbitmq-cluster']) {
    const result = run('kubectl', ['kustomize', join(K8S_DIR, target)]);
    expectSuccess(result, `kubectl kustomize ${target}`);
    const built = documents(result.stdout, target) as Manifest[];
    for (const manifest of built) validate(manifest, `${target} (built)`);
    const worker = built.find((m) => m.kind === 'Deployment' && m.metadata.name === 'nightshift-worker');
    assert.equal(worker?.spec?.replicas, target === 'overlays/keda' ? undefined : 2, `${target}: worker replicas (KEDA owns them in its overlay)`);
    if (target === 'overlays/rabbitmq-cluster') {
      const secret = built.find((m) => m.kind === 'Secret' && m.metadata.name === 'nightshift-secrets') as { stringData?: Record<string, string> } | undefined;
      const urls = (secret?.stringData?.NIGHTSHIFT_AMQP_URL ?? '').split(',').map((url) => new URL(url.trim()));
      assert.deepEqual(urls.map((url) => url.protocol), ['amqp:', 'amqp:', 'amqp:'], `${target}: the services get the three nodes' URLs`);
    }
  }
});

test('Deployments: beat ×2, probes on the health endpoints, requests, graceful termination, config from ConfigMap and Secret', () => {
  const deployment = (name: string) => new Deployment(byName('Deployment', `nightshift-${name}`) as never);
  assert.equal(deployment('beat').spec?.replicas, 2);
  for (const name of ['worker', 'beat', 'alerter', 'health-api']) {
    const pod = deployment(name).spec?.template.spec;
    const container = pod?.containers[0];
    assert.equal(container?.args?.[0], name, `${name}: the image's command chooses the service`);
    const expected = name === 'health-api' ? ['/health/live', '/health/ready'] : ['/metrics', '/metrics'];
    assert.deepEqual([container?.livenessProbe?.httpGet?.path, container?.readinessProbe?.httpGet?.path], expected, `${name}: probes`);
    assert.ok(container?.resources?.requests?.cpu && container.resources.requests.memory, `${name}: resource requests`);
    assert.deepEqual(container?.envFrom?.map((e) => e.configMapRef?.name ?? e.secretRef?.name), ['nightshift-config', 'nightshift-secrets'], `${name}: envFrom`);
    assert.equal(pod?.securityContext?.runAsNonRoot, true, `${name}: non-root`);
  }
  const grace = byName('ConfigMap', 'nightshift-config')?.data?.NIGHTSHIFT_WORKER_GRACE ?? '';
  assert.match(grace, /^\d+s$/);
  assert.ok((deployment('worker').spec?.template.spec?.terminationGracePeriodSeconds ?? 0) > parseInt(grace, 10), 'worker terminationGracePeriodSeconds > NIGHTSHIFT_WORKER_GRACE');
  assert.ok(byName('PodDisruptionBudget', 'nightshift-worker') && byName('PodDisruptionBudget', 'nightshift-beat'));
});
