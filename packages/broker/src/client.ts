import { randomUUID } from 'node:crypto';
import {
  ConfigError, encode, parseDuration, resolveTaskSettings, validateQueueName, DEFAULT_RETRY, GLOBAL_DEFAULTS,
  type AnyApp, type AnyTask, type Duration, type Logger, type NightshiftConfig, type TaskArgs, type TaskEnvelope,
  type TaskNamed, type TaskNames, type TaskOrigin,
} from '@nightshift/core';
import { context, traceIdOf } from '@nightshift/telemetry';
import { Broker, brokerOptions } from './broker.ts';
import { EventPublisher } from './events.ts';
import { park } from './ladder.ts';
import { REPUBLISHED_HEADER } from './publisher.ts';
import { publishInSpan, taskPublishAttributes } from './message-spans.ts';

/** Per-send options. */
export interface SendOptions {
  /** Override the task's queue. */
  queue?: string;
  /** Run no sooner than this long from now. Waits in the retry ladder, not in a held message. */
  countdown?: Duration;
  /** Run no sooner than this time. */
  eta?: Date | string;
  /** Do not run after this: a duration from now, or a time. Dead-lettered as `expired` if received later. */
  expires?: Duration | Date;
  /** The message id. Default: a random UUID. Beat uses `(entry, fire time)` so a run is never sent twice. */
  id?: string;
  /** Kwargs, passed to the task as `ctx.kwargs`. */
  kwargs?: Record<string, unknown>;
  /** Where this message came from. Default: `{ type: 'producer', producer: <client name> }`. */
  origin?: TaskOrigin;
  /**
   * This message may be a second copy of one the broker holds already (a producer sending again what it may have
   * sent before its confirm came): it is marked with `REPUBLISHED_HEADER`, as the publisher marks its own resends.
   */
  republished?: boolean;
  /**
   * More routing keys on the tasks exchange this message is also routed to, in the same routing step (RabbitMQ's
   * sender-selected distribution, the `BCC` header, which the broker removes from every copy it delivers). Beat
   * journals its runs this way. A message routed to one of them is not returned as unroutable, even if no work
   * queue took it.
   */
  bcc?: readonly string[];
}

export interface ClientOptions<A extends AnyApp | undefined> {
  /** Lets `send` take task names and applies the app's defaults. */
  app?: A;
  /** Names this producer in `origin` and in RabbitMQ's connection list. Default: `'client'`. */
  name?: string;
  logger?: Logger;
  /** Fail at once when the broker refuses the connection, rather than wait for it (see `BrokerOptions.failWhenRefused`). Default: `false`. */
  failWhenRefused?: boolean;
}

export interface Client<A extends AnyApp | undefined = undefined> {
  readonly broker: Broker;
  /** Sends a task and resolves with its id once the broker has confirmed the message. */
  send<T extends AnyTask>(task: T, args: TaskArgs<T>, options?: SendOptions): Promise<string>;
  send<N extends (A extends AnyApp ? TaskNames<A> : never)>(
    task: N, args: TaskArgs<A extends AnyApp ? TaskNamed<A, N> : never>, options?: SendOptions,
  ): Promise<string>;
  close(): Promise<void>;
}

/** Connects a producer. It declares the topology it publishes into, so a task sent before any worker starts waits in its queue. */
export async function createClient<A extends AnyApp | undefined = undefined>(config: NightshiftConfig, options: ClientOptions<A> = {}): Promise<Client<A>> {
  const name = options.name ?? 'client';
  const broker = await Broker.connect({ ...brokerOptions(config, `nightshift ${name}`, options.logger), failWhenRefused: options.failWhenRefused === true });
  const app = options.app as AnyApp | undefined;

  const events = new EventPublisher(broker);
  await events.ready();
  const send = async (taskOrName: AnyTask | string, args: readonly unknown[], sendOptions: SendOptions = {}): Promise<string> => {
    const envelope = buildEnvelope(app, taskOrName, args, sendOptions, name);
    const headers: Record<string, unknown> = {};
    if (sendOptions.republished === true) headers[REPUBLISHED_HEADER] = true;
    if (sendOptions.bcc !== undefined) headers.BCC = sendOptions.bcc;
    await sendEnvelope(broker, envelope, events, headers);
    return envelope.id;
  };

  return {
    broker,
    send: send as Client<A>['send'],
    close: async () => {
      await events.close();
      await broker.close();
    },
  };
}

/**
 * Sends a built envelope as a producer does: inside a `send <task>` span whose context travels in the
 * headers, published with `publishTask`, then announced as a `task.sent` event (with its arguments and
 * trace id, for the task history) on `events`.
 */
export async function sendEnvelope(broker: Broker, envelope: TaskEnvelope, events: EventPublisher, extraHeaders: Record<string, unknown> = {}): Promise<void> {
  const headers: Record<string, unknown> = { ...extraHeaders };
  const body = JSON.stringify(envelope);
  let traceId: string | undefined;
  await publishInSpan(`send ${envelope.task}`, taskPublishAttributes('send', broker.names.tasks, envelope), context.active(), headers, (span) => {
    traceId = traceIdOf(span);
    return publishTask(broker, envelope, headers, body);
  });
  announceSent(events, envelope, traceId, body);
}

/** What every envelope `buildEnvelope` makes starts with, written as JSON. */
const ENVELOPE_JSON_START = '{"v":1,';

/**
 * The `task.sent` event of a published envelope (with its arguments and trace id, for the task history).
 * `body`, the envelope as it was sent (JSON), saves writing its fields a second time: the event is the envelope's
 * fields with `type`, `at` and `traceId` in place of `v`, and writing the same fields a second time (with the args)
 * was about a twentieth of a send's own time.
 */
export function announceSent(events: EventPublisher, envelope: TaskEnvelope, traceId: string | undefined, body?: string): void {
  // When it was sent, not now: the confirm may arrive after a worker has already started it.
  const at = envelope.sentAt;
  if (body?.startsWith(ENVELOPE_JSON_START) === true) {
    const trace = traceId !== undefined ? `,"traceId":${JSON.stringify(traceId)}` : '';
    events.addJson('task.sent', `{"type":"task.sent","at":${JSON.stringify(at)}${trace},${body.slice(ENVELOPE_JSON_START.length)}`);
    return;
  }
  events.publish('task.sent', {
    at,
    id: envelope.id, task: envelope.task, queue: envelope.queue, attempt: envelope.attempt, maxAttempts: envelope.maxAttempts,
    sentAt: envelope.sentAt, origin: envelope.origin, args: envelope.args, kwargs: envelope.kwargs,
    ...(envelope.eta ? { eta: envelope.eta } : {}), ...(envelope.expires ? { expires: envelope.expires } : {}),
    ...(traceId !== undefined ? { traceId } : {}),
  });
}

/**
 * Publishes a task message to its queue (declared if needed), mandatory and confirmed; through the retry
 * ladder when its `eta` is still ahead. `headers` carry the trace context. Used by `send` and by replays.
 * `body` is the envelope written as JSON, when the caller has it already.
 */
export function publishTask(broker: Broker, envelope: TaskEnvelope, headers: Record<string, unknown>, body?: string): Promise<void> {
  // A send's usual case, its queue declared already and due now, publishes in this turn: no await in between.
  if (body !== undefined && envelope.eta === undefined && broker.isDeclared(envelope.queue)) return publishNow(broker, envelope, headers, Buffer.from(body));
  return declareThenPublish(broker, envelope, headers, body);
}

async function declareThenPublish(broker: Broker, envelope: TaskEnvelope, headers: Record<string, unknown>, body: string | undefined): Promise<void> {
  await broker.ensureQueue(envelope.queue);
  if (envelope.eta !== undefined && Date.parse(envelope.eta) > Date.now()) {
    await park(broker, envelope, headers);
    return;
  }
  await publishNow(broker, envelope, headers, body === undefined ? encode(envelope) : Buffer.from(body));
}

function publishNow(broker: Broker, envelope: TaskEnvelope, headers: Record<string, unknown>, content: Buffer): Promise<void> {
  return broker.publisher.publish(broker.names.tasks, envelope.queue, content, {
    messageId: envelope.id,
    type: envelope.task,
    contentType: 'application/json',
    persistent: true,
    mandatory: true,
    timestamp: Math.floor(Date.parse(envelope.sentAt) / 1000),
    headers,
  });
}

/** Builds the envelope of a new task message. Pure apart from the clock and the id. */
export function buildEnvelope(app: AnyApp | undefined, taskOrName: AnyTask | string, args: readonly unknown[], options: SendOptions, producer: string, now = Date.now()): TaskEnvelope {
  const task = typeof taskOrName === 'string' ? app?.task(taskOrName) : taskOrName;
  if (typeof taskOrName === 'string' && !task) {
    throw new ConfigError(app
      ? `unknown task ${JSON.stringify(taskOrName)}: app "${app.name}" has ${app.tasks.map((t) => t.name).join(', ')}`
      : `send(${JSON.stringify(taskOrName)}): sending by name needs createClient(config, { app })`, { field: 'task' });
  }
  if (!task) throw new ConfigError('send: the first argument must be a task or a task name', { field: 'task' });
  if (!Array.isArray(args)) throw new ConfigError(`send(${task.name}): args must be an array`, { field: 'args' });
  const defaults = sendDefaults(app, task);
  const queue = options.queue === undefined ? defaults.queue : validateQueueName(options.queue, 'send queue');
  const eta = options.eta !== undefined
    ? toTime(options.eta, 'send eta')
    : options.countdown !== undefined ? new Date(now + parseDuration(options.countdown, 'send countdown')).toISOString() : undefined;
  const expires = options.expires === undefined
    ? undefined
    : options.expires instanceof Date ? toTime(options.expires, 'send expires') : new Date(now + parseDuration(options.expires, 'send expires')).toISOString();
  return {
    v: 1,
    id: options.id ?? randomUUID(),
    task: task.name,
    args: [...args],
    kwargs: options.kwargs ?? {},
    attempt: 1,
    maxAttempts: defaults.maxAttempts,
    queue,
    sentAt: isoTime(now),
    ...(eta !== undefined ? { eta } : {}),
    ...(expires !== undefined ? { expires } : {}),
    origin: options.origin ?? { type: 'producer', producer },
  };
}

/** What a send takes from its task (and the app's defaults when the task is the app's), worked out once per task. */
interface SendDefaults {
  readonly queue: string;
  readonly maxAttempts: number;
}

// Apps and tasks are frozen, so what they say about a send is worked out on the first send of each task, not on
// every send (resolving an app's settings parses durations and compiles a retry policy). Keyed by the app too:
// one task may belong to several apps with different defaults.
const defaultsByApp = new WeakMap<AnyApp, WeakMap<AnyTask, SendDefaults>>();
const defaultsWithoutApp = new WeakMap<AnyTask, SendDefaults>();

function sendDefaults(app: AnyApp | undefined, task: AnyTask): SendDefaults {
  const inApp = app !== undefined && app.task(task.name) === task ? app : undefined;
  let cache = defaultsWithoutApp;
  if (inApp) {
    cache = defaultsByApp.get(inApp) ?? new WeakMap();
    defaultsByApp.set(inApp, cache);
  }
  let defaults = cache.get(task);
  if (defaults === undefined) {
    const settings = inApp ? resolveTaskSettings(inApp, task) : undefined;
    const maxRetries = settings?.retry.maxRetries ?? task.retry?.maxRetries ?? DEFAULT_RETRY.maxRetries;
    defaults = Object.freeze({
      queue: validateQueueName(settings?.queue ?? task.queue ?? GLOBAL_DEFAULTS.queue, 'send queue'),
      maxAttempts: maxRetries + 1,
    });
    cache.set(task, defaults);
  }
  return defaults;
}

// Formatting a time costs about a microsecond, as much as the rest of an envelope; sends come many to a millisecond.
let lastMs = Number.NaN;
let lastIso = '';

/** `new Date(ms).toISOString()`, formatted once per millisecond. */
function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

function toTime(value: Date | string, field: string): string {
  const time = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(time)) throw new ConfigError(`${field}: ${JSON.stringify(value)} is not a time`, { field });
  return new Date(time).toISOString();
}
