export { LOG_LEVELS, type Logger, type LogLevel } from './logger.ts';
export { parseDuration, formatDuration, type Duration } from './duration.ts';
export {
  NightshiftError, SoftTimeLimitExceeded, TimeLimitExceeded, PermanentError, RetryableError, UnknownTaskError,
  MalformedMessageError, ConfigError, BadParameterError, BrokerUnavailableError, TopologyMismatchError, UnroutableError,
  type NightshiftErrorOptions, type RetryableErrorOptions,
} from './errors.ts';
export {
  StoreUnavailableError, SchemaNotReadyError, DeadLetterNotFoundError, RequeueRefusedError, IgnoreRefusedError, type PriorReview,
} from './store-errors.ts';
export { ScheduleNotFoundError, ScheduleConflictError, ScheduleNameTakenError, CodeEntryReadOnlyError } from './schedule-errors.ts';
export { ServiceUnavailableError } from './service-errors.ts';
export { UsageError, CommandFailure, type UsageErrorOptions, type CommandFailureOptions } from './command-errors.ts';
export { errorOutcome, listedOutcome, ERROR_CLASSES, EXIT_FAILURE, EXIT_USAGE, type ErrorOutcome } from './error-outcomes.ts';
export { serializeError, deserializeError, type SerializedError } from './error-serialization.ts';
export { Backoff, type BackoffOptions } from './backoff.ts';
export {
  compileRetryPolicy, retryDelay, decideRetry, DEFAULT_RETRY,
  type RetryOptions, type RetryPolicy, type RetryDecision, type ErrorClass,
} from './retry.ts';
export {
  defineTask, validateQueueName,
  type TaskOptions, type TaskDefinition, type TaskContext, type TaskOrigin, type RetryInfo,
  type AnyTask, type TaskArgs, type TaskResult,
} from './task.ts';
export {
  defineApp, resolveTaskSettings, validateTimezone, GLOBAL_DEFAULTS,
  type App, type AnyApp, type AppOptions, type AppDefaults, type ScheduleEntryInput, type ScheduleByName, type TaskNames, type TaskNamed,
  type ResolvedTaskSettings,
} from './app.ts';
export { runHorizonMs, type RunHorizonOptions } from './run-horizon.ts';
export { loadApp } from './app-loader.ts';
export { encode, decode, type TaskEnvelope, type DecodeResult } from './envelope.ts';
export { loadConfig, readCoreConfig, type NightshiftConfig } from './config.ts';
export { ConfigProblems } from './config-problems.ts';
export { defineSetting, settingText, type Setting, type AnySetting, type SettingDeclaration, type SettingParser, type Secrecy } from './setting.ts';
/** The parsers settings are declared with: `parsers.duration(100)`, `parsers.url(['amqp', 'amqps'])`, `parsers.port`, … */
export * as parsers from './setting-parsers.ts';
export { redactUrl, WHOLE_VALUE_SECRET, URL_PASSWORD_SECRET } from './secrecy.ts';
export { CORE_SETTINGS, METRICS_PORT, HEARTBEAT, TRACE_URL } from './core-settings.ts';
export { parseBrokerUrls } from './broker-urls.ts';
export { signals, type SignalMap, type SignalName, type TaskSignalInfo } from './signals.ts';
export { closest } from './did-you-mean.ts';
export {
  combineSettings, unknownSettings, describeUnknownSetting, describeUnknownSettings, settingStates, secretValues,
  type UnknownSetting, type SettingState, type SettingSource,
} from './settings.ts';
// Remote control: the errors of revokes and worker controls, where revokes are kept, task rate limits.
export { TaskNotFoundError, RevokeRefusedError, ControlRefusedError } from './control-errors.ts';
export { revokedKey, revokeTtlMs, REVOKE_TTL_FLOOR_MS } from './revocation.ts';
export { parseRateLimit, type RateLimit } from './rate-limit.ts';
