import { defineCommand } from '../command.ts';
import { runService } from '../run-service.ts';

const usage = `Usage: nightshift health-api [--app <path>]

Runs the control room: health probes (/health/live, /health/ready, /health/workers, /health/background),
the JSON API (OpenAPI document at /api/openapi.json), the dashboard and its live event stream, and the task
history recorder (task runs and their timelines in PostgreSQL). With --app, tasks can be sent by name and
the app's schedule is shown. Ctrl-C, SIGTERM or closing the terminal (SIGHUP) stops it.

Without NIGHTSHIFT_DASHBOARD_USERS (name:password pairs) or NIGHTSHIFT_API_TOKEN, the API is open and
listens on 127.0.0.1 only. It listens on NIGHTSHIFT_HTTP_PORT (default: 5555). nightshift config
--service health-api lists every setting it reads, with its value in effect and its default.

Options:
      --app <path>   the module whose default export is the app (defineApp)

Examples:
  nightshift health-api --app examples/factory/app.ts
  NIGHTSHIFT_DASHBOARD_USERS=ops:s3cret nightshift health-api --app ./app.ts`;

export const healthApi = defineCommand({
  name: 'health-api',
  summary: 'serve health checks, the REST API, the dashboard and the task history',
  usage,
  options: { app: { type: 'string' } },
  run({ values }, io) {
    return runService('health-api', values.app === undefined ? [] : ['--app', values.app], io);
  },
});
