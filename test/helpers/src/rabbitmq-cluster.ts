import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
// The Debian wrappers in /usr/sbin switch to the rabbitmq user and its cookie (the system node's): never those.
const BIN = '/usr/lib/rabbitmq/bin';
// The broker settings Nightshift ships (dead_letter_worker_publisher_confirm_timeout: retries resume within ~20 s
// of losing the node leading the ladder), and never the system node's /etc/rabbitmq/advanced.config.
const ADVANCED_CONFIG = fileURLToPath(new URL('../../../deploy/rabbitmq/advanced.config', import.meta.url));

/** One node of a test cluster: `n<N>@localhost`, AMQP on 568N, distribution on 2568N. */
export interface ClusterNode {
  readonly index: 1 | 2 | 3;
  readonly name: string;
  readonly port: number;
  /** `amqp://guest:guest@127.0.0.1:568N`. */
  readonly url: string;
}

/**
 * Three RabbitMQ nodes clustered on loopback beside the system node (which is never touched), per
 * `shared/rabbitmq-cluster.md`: each with its own node name, ports, data folder, config file, and one cookie in
 * a temporary folder that `stop` deletes.
 */
export interface RabbitCluster {
  readonly nodes: readonly ClusterNode[];
  /** The three AMQP URLs, comma-separated, as `NIGHTSHIFT_AMQP_URL` takes them. */
  readonly amqpUrls: string;
  /** The node whose AMQP port is `port` (e.g. from `Broker.node`). */
  nodeAt(port: number): ClusterNode;
  /** `kill -9` of the node's Erlang VM; resolves once it is gone. */
  kill(node: ClusterNode): Promise<void>;
  /** Starts a stopped or killed node and waits until it runs (it rejoins the cluster by itself). */
  start(node: ClusterNode): Promise<void>;
  /** Runs `/usr/lib/rabbitmq/bin/<tool> -n <node> args…` against `node`; resolves with its stdout. */
  ctl(node: ClusterNode, tool: 'rabbitmqctl' | 'rabbitmq-queues', ...args: string[]): Promise<string>;
  /** Stops every node (killing any that does not stop) and deletes the temporary folder. Never throws. */
  stop(): Promise<void>;
}

const PORTS = [5681, 5682, 5683] as const;

/**
 * Fails unless every node runs with the advanced.config Nightshift ships: a suite that measures how soon retries
 * resume must not measure RabbitMQ's defaults by mistake.
 */
async function checkShippedSettings(nodes: readonly ClusterNode[], ctl: (node: ClusterNode, tool: string, ...args: string[]) => Promise<string>): Promise<void> {
  const shipped = /\{dead_letter_worker_publisher_confirm_timeout, (\d+)\}/.exec(await readFile(ADVANCED_CONFIG, 'utf8'))?.[1];
  if (shipped === undefined) throw new Error(`${ADVANCED_CONFIG} does not set dead_letter_worker_publisher_confirm_timeout`);
  await Promise.all(nodes.map(async (node) => {
    const running = (await ctl(node, 'rabbitmqctl', 'eval', 'application:get_env(rabbit, dead_letter_worker_publisher_confirm_timeout).')).trim();
    if (running !== `{ok,${shipped}}`) throw new Error(`${node.name} runs with dead_letter_worker_publisher_confirm_timeout ${running}, not the ${shipped} of ${ADVANCED_CONFIG}`);
  }));
}

/** Whether this machine has the Debian RabbitMQ package the recipe needs. */
export function rabbitClusterAvailable(): boolean {
  return existsSync(join(BIN, 'rabbitmq-server')) && existsSync(join(BIN, 'rabbitmqctl'));
}

/**
 * Starts three nodes in parallel, joins n2 and n3 to n1 and resolves once the cluster runs (about 15 s).
 * On any failure everything started is stopped and the folder deleted before the error is thrown.
 */
export async function startRabbitCluster(): Promise<RabbitCluster> {
  const root = await mkdtemp(join(tmpdir(), 'nightshift-cluster-'));
  const home = join(root, 'home');
  await mkdir(home, { recursive: true });
  await writeFile(join(home, '.erlang.cookie'), randomBytes(24).toString('hex').slice(0, 32));
  await chmod(join(home, '.erlang.cookie'), 0o400);
  await writeFile(join(root, 'rabbitmq-env.conf'), '');
  await writeFile(join(root, 'enabled_plugins'), '[].\n');
  const nodes: ClusterNode[] = PORTS.map((port, i) => ({ index: (i + 1) as 1 | 2 | 3, name: `n${i + 1}@localhost`, port, url: `amqp://guest:guest@127.0.0.1:${port}` }));
  for (const node of nodes) {
    const dir = join(root, `n${node.index}`);
    await mkdir(join(dir, 'mnesia'), { recursive: true });
    await mkdir(join(dir, 'log'), { recursive: true });
    await writeFile(join(dir, 'rabbitmq.conf'), `listeners.tcp.1 = 127.0.0.1:${node.port}\n`);
  }

  const env = (node: ClusterNode): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: home,
    RABBITMQ_CONF_ENV_FILE: join(root, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(root, 'enabled_plugins'),
    ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_NODENAME: node.name,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(node.port),
    RABBITMQ_DIST_PORT: String(20_000 + node.port),
    RABBITMQ_MNESIA_BASE: join(root, `n${node.index}`, 'mnesia'),
    RABBITMQ_LOG_BASE: join(root, `n${node.index}`, 'log'),
    RABBITMQ_CONFIG_FILE: join(root, `n${node.index}`, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: ADVANCED_CONFIG,
  });
  const pidFile = (node: ClusterNode) => join(root, `n${node.index}`, 'mnesia', `${node.name}.pid`);
  const ctl = async (node: ClusterNode, tool: string, ...args: string[]): Promise<string> =>
    (await run(join(BIN, tool), ['-n', node.name, ...args], { env: env(node), timeout: 150_000 })).stdout;
  const start = async (node: ClusterNode): Promise<void> => {
    const child = spawn(join(BIN, 'rabbitmq-server'), [], { env: env(node), detached: true, stdio: 'ignore' });
    child.unref();
    await ctl(node, 'rabbitmqctl', 'wait', pidFile(node), '--timeout', '120');
  };
  const vmPid = async (node: ClusterNode): Promise<number | undefined> => {
    try {
      const pid = Number((await readFile(pidFile(node), 'utf8')).trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const kill = async (node: ClusterNode): Promise<void> => {
    const pid = await vmPid(node);
    if (pid === undefined || !alive(pid)) return;
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  const stop = async (): Promise<void> => {
    for (const node of nodes) {
      const pid = await vmPid(node);
      if (pid === undefined || !alive(pid)) continue;
      await ctl(node, 'rabbitmqctl', 'stop', pidFile(node)).catch(() => {});
      await kill(node).catch(() => {});
    }
    await rm(root, { recursive: true, force: true }).catch(() => {});
  };

  try {
    await Promise.all(nodes.map(start));
    for (const node of nodes.slice(1)) {
      await ctl(node, 'rabbitmqctl', 'stop_app');
      await ctl(node, 'rabbitmqctl', 'join_cluster', 'n1@localhost');
      await ctl(node, 'rabbitmqctl', 'start_app');
    }
    await checkShippedSettings(nodes, ctl);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes,
    amqpUrls: nodes.map((node) => node.url).join(','),
    nodeAt: (port) => {
      const node = nodes.find((each) => each.port === port);
      if (node === undefined) throw new Error(`no cluster node on port ${port}`);
      return node;
    },
    kill,
    start,
    ctl,
    stop,
  };
}
