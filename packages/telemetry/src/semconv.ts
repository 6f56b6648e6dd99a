/**
 * Every span attribute name Nightshift writes, in one place, so that a name is spelled once and a reader sees
 * the whole vocabulary.
 *
 * OpenTelemetry's names (semantic conventions 1.45) are copied here rather than imported: the messaging ones
 * live in the package's `incubating` entry point, which may rename them in a minor release. The other constants
 * name our own `nightshift.*` attributes: what the on-call asks first. A span never carries a task's args nor
 * its error message.
 */

/** OpenTelemetry (stable): the class of the error that ended an operation. */
export const ATTR_ERROR_TYPE = 'error.type';

/** OpenTelemetry messaging (incubating). */
export const ATTR_MESSAGING_SYSTEM_NAME = 'messaging.system.name';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
/** The exchange published to (RabbitMQ's destination). */
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
/** The queue a delivery was taken from. */
export const ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME = 'messaging.destination.subscription.name';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY = 'messaging.rabbitmq.destination.routing_key';
export const MESSAGING_SYSTEM_NAME_VALUE_RABBITMQ = 'rabbitmq';

/** The task a message carries. */
export const ATTR_TASK = 'nightshift.task';
export const ATTR_TASK_ID = 'nightshift.task.id';
export const ATTR_ATTEMPT = 'nightshift.attempt';
export const ATTR_MAX_ATTEMPTS = 'nightshift.max_attempts';
/** The logical queue (the task's), not the broker queue's full name. */
export const ATTR_QUEUE = 'nightshift.queue';
export const ATTR_WORKER = 'nightshift.worker';
/** How many times the broker delivered this message. */
export const ATTR_DELIVERY_COUNT = 'nightshift.delivery_count';
/** How an operation ended: `succeeded`, `retried`, `dead_lettered`, `stored`, `returned`, … */
export const ATTR_OUTCOME = 'nightshift.outcome';
/** The class of a task's error, on the spans that carry it on (retry, dead letter, store, alert). */
export const ATTR_TASK_ERROR_TYPE = 'nightshift.error.type';

export const ATTR_RETRY_NEXT_ATTEMPT = 'nightshift.retry.next_attempt';
export const ATTR_RETRY_DELAY_MS = 'nightshift.retry.delay_ms';

export const ATTR_DEAD_LETTER_ID = 'nightshift.dead_letter.id';
export const ATTR_DEAD_LETTER_REASON = 'nightshift.dead_letter.reason';

export const ATTR_ALERT_CHANNEL = 'nightshift.alert.channel';
export const ATTR_ALERT_KIND = 'nightshift.alert.kind';
export const ATTR_ALERT_DELIVERY_ATTEMPT = 'nightshift.alert.delivery_attempt';
/** How many dead letters a summary alert stands for. */
export const ATTR_ALERT_DEAD_LETTERS = 'nightshift.alert.dead_letters';
/** What storing a dead letter did about alerting: `paged`, `grouped` or `none`. */
export const ATTR_ALERT_OUTCOME = 'nightshift.alert.outcome';

export const ATTR_BEAT_ENTRY = 'nightshift.beat.entry';
export const ATTR_BEAT_SCHEDULED_FOR = 'nightshift.beat.scheduled_for';
export const ATTR_BEAT_OUTCOME = 'nightshift.beat.outcome';
