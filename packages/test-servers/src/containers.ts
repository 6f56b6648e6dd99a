import type { StartedTestContainer } from 'testcontainers';
import { probe } from './probe.ts';
import type { ServiceName, ServiceSpec } from './services.ts';

/** How long the Docker engine may take to answer `info` before it counts as absent. */
const DOCKER_DETECT_TIMEOUT_MS = 5_000;
/** Pulling an image on a cold machine is the slow part. */
const CONTAINER_STARTUP_TIMEOUT_MS = 180_000;
const CONTAINER_PROBE_TIMEOUT_MS = 10_000;

let dockerDetection: Promise<boolean> | undefined;

/**
 * Whether a Docker engine answers, by testcontainers' own strategies (`DOCKER_HOST`,
 * `~/.testcontainers.properties`, the usual sockets). Asked once per process. testcontainers is
 * loaded only here, so a run whose services all answer never pays for it.
 */
export function dockerEngineReachable(): Promise<boolean> {
  dockerDetection ??= (async () => {
    const { getContainerRuntimeClient } = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), DOCKER_DETECT_TIMEOUT_MS);
      timer.unref();
    });
    try {
      return await Promise.race([getContainerRuntimeClient().then(() => true, () => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  })();
  return dockerDetection;
}

const started = new Map<ServiceName, Promise<string>>();
const running: StartedTestContainer[] = [];
let stopAtExitRegistered = false;

/**
 * Starts the service's image and resolves with its URL once it answers. One container per
 * service per process: later calls get the same URL. Containers are stopped when the process
 * runs out of work (`beforeExit`); testcontainers' reaper removes them if it dies instead.
 */
export function startServiceContainer(spec: ServiceSpec): Promise<string> {
  let url = started.get(spec.name);
  if (url === undefined) {
    url = startContainer(spec);
    started.set(spec.name, url);
    // A failed start is not remembered: the next caller tries again.
    url.catch(() => started.delete(spec.name));
  }
  return url;
}

async function startContainer(spec: ServiceSpec): Promise<string> {
  const { GenericContainer, Wait } = await import('testcontainers');
  registerStopAtExit();
  const container = await new GenericContainer(spec.image)
    .withExposedPorts(spec.containerPort)
    .withEnvironment({ ...spec.containerEnv })
    .withWaitStrategy(Wait.forLogMessage(spec.readyLog.pattern, spec.readyLog.times))
    .withStartupTimeout(CONTAINER_STARTUP_TIMEOUT_MS)
    .start();
  running.push(container);
  const url = spec.containerUrl(container.getHost(), container.getMappedPort(spec.containerPort));
  await probe(spec.name, url, CONTAINER_PROBE_TIMEOUT_MS);
  return url;
}

function registerStopAtExit(): void {
  if (stopAtExitRegistered) return;
  stopAtExitRegistered = true;
  process.once('beforeExit', () => {
    const stopping = running.splice(0).map((container) => container.stop().catch(() => {}));
    void Promise.all(stopping);
  });
}
