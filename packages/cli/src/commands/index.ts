import type { Command } from '../command.ts';
import { inspect } from './inspect.ts';
import { revoke } from './revoke.ts';
import { send } from './send.ts';
import { up } from './up.ts';
import { worker } from './worker.ts';

/** Every `nightshift` command, in the order `nightshift --help` lists them. */
export const commands: readonly Command[] = [up, worker, send, inspect, revoke];
