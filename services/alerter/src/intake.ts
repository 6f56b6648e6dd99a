import type { Logger } from '@nightshift/core';
import { deadLetterAttributes, messagingAttributes, type Broker, type Delivery, type Subscription } from '@nightshift/broker';
import { alertGroup, pageAlert, type AlertOptions } from '@nightshift/alerts';
import {
  ATTR_ALERT_OUTCOME, ATTR_DEAD_LETTER_ID, ATTR_OUTCOME, extractTraceContext, injectTraceContext, redact, runInSpan,
  SpanKind, trace, type Attributes, type Context, type Span,
} from '@nightshift/telemetry';
import { isTransientStoreError, type DeadLetterInput, type DeadLetters, type RecordOutcome } from '@nightshift/store';
import { readDeadLetterMessage, scheduleEntryOf } from './dead-letter-message.ts';
import type { AlerterMetrics } from './metrics.ts';
import { StoreOutage } from './store-outage.ts';

export interface IntakeOptions {
  readonly broker: Broker;
  readonly deadLetters: DeadLetters;
  readonly logger: Logger;
  readonly metrics: AlerterMetrics;
  readonly alert: AlertOptions;
  readonly windowMs: number;
  /** The channels a page is written for. */
  readonly channels: readonly string[];
  /** Dead letters held (unacknowledged) at once. Default: `20`. */
  readonly prefetch?: number;
  /** Called after a dead letter opened a group (a page is in the outbox). */
  readonly onPage?: () => void;
  /**
   * Whether the schedule watch pages this entry's failure streaks itself: a dead letter of one of its runs then
   * never pages alone; it is counted in the streak's incident (`AlertRouting.hold`). Default: never.
   */
  readonly heldBySchedule?: (entry: string) => boolean;
}

const tracer = trace.getTracer('@nightshift/alerter');

/**
 * Consumes the dead-letters queue into the store. A message is acknowledged only after its row (and its
 * alert, if it pages) is committed. While PostgreSQL is unreachable the messages are held unacknowledged,
 * with a shared backoff, and the rest stay in the queue; if the alerter stops meanwhile they go back to it.
 *
 * Each dead letter taken in is a `store <task>` consumer span, the child of the `dead-letter` span whose context
 * the message carries, so it ends the task's trace; the page it opens carries the store span's context to the
 * outbox, whose delivery spans (`alert slack`, …) are its children.
 */
export class DeadLetterIntake {
  readonly #options: IntakeOptions;
  readonly #outage: StoreOutage;
  readonly #stopped = new AbortController();
  #subscription: Subscription | undefined;
  #holding = 0;

  constructor(options: IntakeOptions) {
    this.#options = options;
    this.#outage = new StoreOutage(options.logger);
  }

  async start(): Promise<void> {
    const { broker } = this.#options;
    this.#subscription = await broker.consumeRaw(broker.names.deadLetters, (delivery) => this.#handle(delivery), { prefetch: this.#options.prefetch ?? 20 });
  }

  /** Stops consuming; handlers waiting for PostgreSQL give up and their messages return to the queue. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    await this.#subscription?.cancel({ waitForHandlers: true });
  }

  async #handle(delivery: Delivery): Promise<void> {
    const input = readDeadLetterMessage(delivery.message);
    const parent = extractTraceContext(delivery.message.properties.headers);
    const span = tracer.startSpan(`store ${input.task ?? 'dead letter'}`, { kind: SpanKind.CONSUMER, attributes: this.#storeAttributes(delivery, input) }, parent);
    await runInSpan(span, parent, (inSpan) => this.#store(delivery, input, span, traceparentOf(inSpan)));
  }

  async #store(delivery: Delivery, first: DeadLetterInput, span: Span, traceparent: string | undefined): Promise<void> {
    let input = first;
    const routing = this.#routing(input, traceparent, scheduleEntryOf(delivery.message));
    let degraded = false;
    this.#holding += 1;
    try {
      for (;;) {
        await this.#outage.wait(this.#stopped.signal);
        if (this.#stopped.signal.aborted) {
          span.setAttribute(ATTR_OUTCOME, 'returned');
          return; // unacknowledged: the broker delivers it again
        }
        let outcome: RecordOutcome;
        try {
          outcome = await this.#options.deadLetters.record(input, routing(input));
        } catch (error) {
          if (isTransientStoreError(error)) {
            this.#outage.failed(error as Error, this.#holding);
            continue;
          }
          // PostgreSQL answered (refusing this message): it is reachable, and this handler's probe is over.
          this.#outage.succeeded();
          if (degraded) throw error;
          // Something in this message the database refuses: keep the raw message and say why, rather than hold it forever.
          this.#options.logger.error({ err: { message: (error as Error).message }, messageId: input.messageId }, 'storing a dead letter failed; storing its raw message only');
          input = { ...input, args: undefined, kwargs: undefined, headers: {}, detail: `stored without its parsed fields: ${(error as Error).message}` };
          degraded = true;
          continue;
        }
        this.#outage.succeeded();
        delivery.ack();
        span.setAttributes({
          [ATTR_DEAD_LETTER_ID]: outcome.id, [ATTR_OUTCOME]: outcome.created ? 'stored' : 'stored_before', [ATTR_ALERT_OUTCOME]: outcome.alert ?? 'none',
        });
        this.#count(input, outcome);
        return;
      }
    } finally {
      this.#holding -= 1;
    }
  }

  #storeAttributes(delivery: Delivery, input: DeadLetterInput): Attributes {
    const { broker } = this.#options;
    const { fields } = delivery.message;
    return {
      ...messagingAttributes({
        name: 'store', type: 'process', exchange: fields.exchange, routingKey: fields.routingKey, queue: broker.names.deadLetters,
        ...(input.messageId !== undefined ? { messageId: input.messageId } : {}),
      }),
      ...deadLetterAttributes({ ...input, errorType: input.error?.name }),
    };
  }

  #routing(first: DeadLetterInput, traceparent: string | undefined, entry: string | undefined) {
    const { task, errorClass, key } = alertGroup(first);
    const held = entry !== undefined && this.#options.heldBySchedule?.(entry) === true;
    return (input: DeadLetterInput) => ({
      groupKey: held ? `schedule:${entry}` : key,
      ...(held ? { hold: { diedAt: input.lastFailedAt } } : {}),
      task,
      errorClass,
      windowMs: this.#options.windowMs,
      channels: this.#options.channels,
      page: (id: string) => ({ ...pageAlert(id, input, this.#options.alert), ...(traceparent !== undefined ? { traceparent } : {}) }),
      message: redact(input.error?.message ?? input.detail ?? input.reason, this.#options.alert.redaction).slice(0, 500),
    });
  }

  #count(input: DeadLetterInput, outcome: RecordOutcome): void {
    const { metrics, logger } = this.#options;
    if (!outcome.created) {
      logger.debug({ deadLetter: outcome.id, messageId: input.messageId }, 'dead letter delivered again; already stored');
      return;
    }
    metrics.stored.add(1, { task: input.task ?? 'unknown', reason: input.reason });
    if (metrics.gauges.pending !== undefined) metrics.gauges.pending += 1;
    logger.info({ deadLetter: outcome.id, task: input.task, reason: input.reason, alert: outcome.alert }, outcome.alert === 'held' ? 'dead letter stored; its schedule entry\'s failure streak is paged by the schedule watch' : 'dead letter stored');
    if (outcome.alert === 'grouped') for (const channel of this.#options.channels) metrics.grouped.add(1, { channel });
    if (outcome.alert === 'paged') this.#options.onPage?.();
  }
}

/** The W3C `traceparent` of the span in `spanContext`; undefined without a valid span (tracing off). */
function traceparentOf(spanContext: Context): string | undefined {
  const carrier: Record<string, unknown> = {};
  injectTraceContext(carrier, spanContext);
  return typeof carrier.traceparent === 'string' ? carrier.traceparent : undefined;
}
