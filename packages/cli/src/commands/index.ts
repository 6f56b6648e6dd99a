import type { Command } from '../command.ts';
import { alerter } from './alerter.ts';
import { beat } from './beat.ts';
import { config } from './config.ts';
import { control } from './control.ts';
import { db } from './db.ts';
import { deadLetters } from './dead-letters.ts';
import { healthApi } from './health-api.ts';
import { init } from './init.ts';
import { inspect } from './inspect.ts';
import { purge } from './purge.ts';
import { revoke } from './revoke.ts';
import { schedule } from './schedule.ts';
import { send } from './send.ts';
import { up } from './up.ts';
import { worker } from './worker.ts';

/** Every `nightshift` command, in the order `nightshift --help` lists them. */
export const commands: readonly Command[] = [init, up, worker, beat, alerter, healthApi, schedule, send, inspect, revoke, control, deadLetters, purge, db, config];
