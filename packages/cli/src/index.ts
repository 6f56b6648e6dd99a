export { main, runMain, EXIT_OK, EXIT_FAILURE, EXIT_USAGE } from './main.ts';
export {
  defineCommand, UsageError,
  type Command, type CommandArgs, type CommonValues, type OptionValues, type Io, type Writer, type Interrupt,
} from './command.ts';
export { commands } from './commands/index.ts';
export { createUpCommand, type UpSettings } from './commands/up.ts';
export {
  Supervisor, DEFAULT_RESTART, DEFAULT_GRACE_PERIOD_MS,
  type ServiceSpec, type RestartPolicy, type SupervisorOptions, type StopResult, type FatalExit,
} from './supervisor.ts';
export { ServiceOutput, wantsColor, type ServiceOutputOptions } from './service-output.ts';
export { processIo } from './io.ts';
