import { defineCommand } from '../command.ts';
import { runService } from '../run-service.ts';

const usage = `Usage: nightshift health-api [--app <path>]

Runs the control room: health probes (/health/live, /health/ready, /health/workers, /health/background),
the JSON API (OpenAPI document at /api/openapi.json), the dashboard and its live event stream, and the task
history recorder (task runs and their timelines in PostgreSQL). With --app, tasks can be sent by name and
the app's schedule is shown. Ctrl-C, SIGTERM or closing the terminal (SIGHUP) stops it.

Settings:
  NIGHTSHIFT_HTTP_PORT                 HTTP port (default: 5555)
  NIGHTSHIFT_DASHBOARD_USERS           name:password pairs for basic auth, comma-separated
  NIGHTSHIFT_API_TOKEN                 a bearer token for scripts (at least 16 characters)
                                       (with neither, the API is open and listens on 127.0.0.1 only)
  NIGHTSHIFT_HISTORY_RETENTION         how long task runs are kept (default: 7d)
  NIGHTSHIFT_HEALTH_BACKLOG            queue depth above which /health/background is degraded (default: 1000)
  NIGHTSHIFT_HEALTH_FAILURE_RATE, _CRITICAL, NIGHTSHIFT_HEALTH_WINDOW   failure-rate thresholds (0.2, 0.5 over 5m)
  NIGHTSHIFT_HEALTH_DEAD_LETTERS       pending dead letters that make it degraded (default: 1; 0 never)
  NIGHTSHIFT_TRACE_URL                 base of trace links ({traceId} is replaced)
  NIGHTSHIFT_METRICS_PORT              /metrics (default: 9467)

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
