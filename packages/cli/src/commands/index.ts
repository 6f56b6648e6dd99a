import type { Command } from '../command.ts';
import { send } from './send.ts';
import { up } from './up.ts';

/** Every `nightshift` command, in the order `nightshift --help` lists them. */
export const commands: readonly Command[] = [up, send];
