// Finding the servers is the published @nightshift/test-servers' job; the repo's own tests take it from here too.
export { randomPrefix, checkServices, requireServices, ServiceUnavailableError, type ServiceName, type ServiceStatus, type ServiceUrls } from '@nightshift/test-servers';
export { slackWebhook, smtpServer, type ReceivedMail } from './fake-alert-services.ts';
export { otlpCollector, type CollectedSpan, type OtlpCollector } from './otlp-collector.ts';
export { freePort } from './free-port.ts';
export { removePrefix, removeRedisKeys } from './remove-prefix.ts';
export { prometheusInstalled, startPrometheus, PROMETHEUS_BIN, type Prometheus, type PrometheusOptions, type PromSeries, type ScrapeJob } from './prometheus.ts';
export { eventually } from './eventually.ts';
export { exportedErrorClasses } from './exported-error-classes.ts';
export { startPrivateRedis, type PrivateRedis } from './private-redis.ts';
export { TcpProxy } from './tcp-proxy.ts';
export { startRabbitCluster, rabbitClusterAvailable, type RabbitCluster, type ClusterNode } from './rabbitmq-cluster.ts';
export { closeConnections, connectionsNamed } from './close-connections.ts';
export {
  appliedChange, judgeChurn, percentiles, ScheduleChurn, type ChurnApplied, type ChurnChange, type ChurnOp, type ChurnRun, type ChurnSchedules, type ChurnVerdict,
} from './schedule-churn.ts';
