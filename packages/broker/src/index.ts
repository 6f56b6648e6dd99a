export { Broker, brokerOptions, type BrokerOptions } from './broker.ts';
export { Publisher, REPUBLISHED_HEADER } from './publisher.ts';
export { Subscription, type Delivery, type DeliveryHandler, type SubscriptionOptions } from './subscription.ts';
export { topologyNames, stepLabel, HEADERS, type TopologyNames } from './names.ts';
export { declareBaseTopology, declareWorkQueue, deleteTopology, workQueueArguments, explainMismatch, type TopologySpec } from './topology.ts';
export { ladderStep, park, ETA_TOLERANCE_MS } from './ladder.ts';
export { publishDeadLetter, readDeadLetter, type DeadLetterInfo, type DeadLetterReason } from './dead-letter.ts';
export { consumeTasks, type ReceivedTask, type TaskHandler, type ConsumeTasksOptions } from './task-consumer.ts';
export { createClient, buildEnvelope, type Client, type ClientOptions, type SendOptions } from './client.ts';
