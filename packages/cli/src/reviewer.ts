import { userInfo } from 'node:os';
import type { Io } from './command.ts';

/**
 * Who is running the command, as `ignore` and `requeue` record it: the login name from the environment, else
 * the name of the account the process runs as (cron, `docker exec` and systemd set no USER), else `unknown`.
 */
export function reviewer(io: Io): string {
  const named = io.env.USER ?? io.env.LOGNAME ?? io.env.USERNAME;
  if (named !== undefined && named !== '') return named;
  try {
    return userInfo().username;
  } catch {
    // An account without a name (a container's arbitrary uid): nothing better to record.
    return 'unknown';
  }
}
