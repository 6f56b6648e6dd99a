/**
 * The files `nightshift init` writes: the smallest project that runs on Nightshift, TypeScript run by Node 24
 * as it is. One task and one schedule entry, a test on the testing kit, the type-check, a compose file that
 * runs the app on the Nightshift image beside RabbitMQ, Redis and PostgreSQL, and a README that says how.
 */
export interface StarterProject {
  /** The package name, e.g. the folder's name. */
  readonly name: string;
  /** The version of every @nightshift package it depends on: this CLI's own. */
  readonly nightshiftVersion: string;
}

/** Relative path → content. */
export function starterFiles({ name, nightshiftVersion }: StarterProject): ReadonlyMap<string, string> {
  const packageName = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'nightshift-app';
  const manifest = {
    name: packageName,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=24' },
    scripts: {
      start: 'nightshift up --app app.ts',
      test: 'node --test "*.test.ts"',
      typecheck: 'tsc',
      schedule: 'nightshift schedule explain --app app.ts',
    },
    dependencies: Object.fromEntries(['broker', 'cli', 'core', 'schedule'].map((p) => [`@nightshift/${p}`, nightshiftVersion])),
    devDependencies: { '@nightshift/testing': nightshiftVersion, '@types/node': '^24.0.0', typescript: '^5.9.0' },
  };
  return new Map([
    ['package.json', `${JSON.stringify(manifest, null, 2)}\n`],
    ['app.ts', APP],
    ['app.test.ts', TEST],
    ['tsconfig.json', TSCONFIG],
    ['Dockerfile', dockerfile(nightshiftVersion)],
    ['docker-compose.yml', COMPOSE],
    ['.dockerignore', 'node_modules\n'],
    ['.gitignore', 'node_modules/\n'],
    ['README.md', readme(packageName)],
  ]);
}

const APP = `import { defineApp, defineTask } from '@nightshift/core';
import { every } from '@nightshift/schedule';

/** A task: a name, a queue, limits and retries; \`run\`'s parameters are what a sender must pass. */
export const greet = defineTask({
  name: 'greetings.send',
  queue: 'default',
  softTimeLimit: '20s', // ctx.signal aborts: time to clean up
  timeLimit: '30s', // the sandbox is killed
  retry: { maxRetries: 3, base: '2s' },
  async run(ctx, who: string) {
    ctx.log.info({ who }, 'greeting');
    return \`hello, \${who}\`;
  },
});

export default defineApp({
  name: 'starter',
  tasks: [greet],
  timezone: 'UTC',
  schedule: [
    { name: 'hourly-greeting', task: 'greetings.send', schedule: every('1h'), args: ['world'] },
  ],
});
`;

const TEST = `import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestbed, ScheduleClock } from '@nightshift/testing';
import app, { greet } from './app.ts';

// A worker on the real broker (NIGHTSHIFT_AMQP_URL, default amqp://127.0.0.1), under a random prefix of its own.
const bed = await createTestbed({ app: new URL('./app.ts', import.meta.url) });
after(() => bed.close());
await bed.startWorker();

test('greet says hello', async () => {
  const outcome = await bed.run(greet, ['world']);
  assert.equal(outcome.status, 'succeeded');
  assert.equal(outcome.status === 'succeeded' && outcome.result, 'hello, world');
});

test('the greeting is sent every hour', () => {
  const clock = new ScheduleClock(app, '2026-01-01T00:00:00Z');
  assert.equal(clock.advance('3h').length, 3);
});
`;

const TSCONFIG = `{
  "compilerOptions": {
    "target": "es2024",
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "types": ["node"],
    "strict": true,
    "noEmit": true,
    "allowImportingTsExtensions": true,
    "erasableSyntaxOnly": true,
    "verbatimModuleSyntax": true,
    "skipLibCheck": true
  },
  "include": ["*.ts"]
}
`;

function dockerfile(version: string): string {
  return `# This app on the Nightshift image: its services run your app from /app/user. Until the image is published,
# build it from a Nightshift checkout: docker build -f deploy/Dockerfile -t nightshift:${version} .
ARG BASE_IMAGE=nightshift:${version}
FROM \${BASE_IMAGE}
WORKDIR /app/user
COPY package.json package-lock.json* ./
# The app's own production dependencies; the @nightshift packages it imports resolve to the image's own copy
# (/app/node_modules, the same version), so they are not installed twice.
USER root
RUN npm install --omit=dev --no-audit --no-fund && rm -rf node_modules/@nightshift && chown -R node /app/user
USER node
COPY . .
CMD ["worker", "--app", "/app/user/app.ts"]
`;
}

const COMPOSE = `# This app on the Nightshift image, with RabbitMQ, Redis and PostgreSQL: docker compose up --build
x-nightshift: &nightshift
  build: .
  environment:
    NIGHTSHIFT_AMQP_URL: amqp://guest:guest@rabbitmq:5672
    NIGHTSHIFT_REDIS_URL: redis://redis:6379
    NIGHTSHIFT_DATABASE_URL: postgres://postgres:postgres@postgres:5432/postgres
  depends_on:
    rabbitmq: { condition: service_healthy }
    redis: { condition: service_healthy }
    postgres: { condition: service_healthy }
  restart: unless-stopped

services:
  worker:
    <<: *nightshift
    command: ["worker", "--app", "/app/user/app.ts"]
  beat:
    <<: *nightshift
    command: ["beat", "--app", "/app/user/app.ts"]
  alerter:
    <<: *nightshift
    command: ["alerter", "--app", "/app/user/app.ts"]
  health-api:
    <<: *nightshift
    command: ["health-api", "--app", "/app/user/app.ts"]
    ports: ["5555:5555"]

  rabbitmq:
    image: rabbitmq:3.13-management
    ports: ["5672:5672", "15672:15672"]
    healthcheck: { test: ["CMD", "rabbitmq-diagnostics", "-q", "ping"], interval: 5s, retries: 20 }
  redis:
    image: redis:7
    ports: ["6379:6379"]
    healthcheck: { test: ["CMD", "redis-cli", "ping"], interval: 5s, retries: 20 }
  postgres:
    image: postgres:16
    environment: { POSTGRES_PASSWORD: postgres }
    ports: ["5432:5432"]
    healthcheck: { test: ["CMD", "pg_isready", "-U", "postgres"], interval: 5s, retries: 20 }
`;

function readme(name: string): string {
  return `# ${name}

Background tasks on [Nightshift](https://www.npmjs.com/package/@nightshift/cli): \`app.ts\` defines the tasks and the
schedule, \`app.test.ts\` tests them on a real RabbitMQ.

\`\`\`sh
npm install
docker compose up -d rabbitmq redis postgres   # or your own servers: NIGHTSHIFT_AMQP_URL, _REDIS_URL, _DATABASE_URL
npm start                                      # worker, beat, alerter and the dashboard on http://127.0.0.1:5555
npm test                                       # the tests, against the real broker
npm run typecheck                              # tsc: the arguments of every send are checked
npm run schedule                               # each schedule entry in words, and its next runs
\`\`\`

Send a task from your code:

\`\`\`ts
import { loadConfig } from '@nightshift/core';
import { createClient } from '@nightshift/broker';
import app, { greet } from './app.ts';

const client = await createClient(loadConfig(), { app, name: 'api' });
await client.send(greet, ['Ada']);
await client.close();
\`\`\`

In containers: \`docker compose up --build\` runs the worker, beat, alerter and health-api on the Nightshift image
(see \`Dockerfile\`: the image runs this app from /app/user).
`;
}
