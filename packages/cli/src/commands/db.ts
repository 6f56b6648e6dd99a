import { loadConfig, redactUrl } from '@nightshift/core';
import { migrate, Store, storeOptions } from '@nightshift/store';
import { defineCommand, UsageError } from '../command.ts';

const usage = `Usage: nightshift db migrate

Applies the store's migrations to PostgreSQL (NIGHTSHIFT_DATABASE_URL), in the schema
NIGHTSHIFT_DATABASE_SCHEMA (default: nightshift), under an advisory lock: running it while an alerter
starts applies each migration once. The alerter also migrates at start-up.

Examples:
  nightshift db migrate
  NIGHTSHIFT_DATABASE_SCHEMA=staging nightshift db migrate --json`;

export const db = defineCommand({
  name: 'db',
  summary: 'apply the PostgreSQL store\'s migrations (db migrate)',
  usage,
  options: {},
  positionals: true,
  async run({ values, positionals }, io) {
    if (positionals[0] !== 'migrate' || positionals.length > 1) {
      throw new UsageError(positionals[0] === undefined ? '"nightshift db" needs an action' : `unknown action ${JSON.stringify(positionals.join(' '))}`, 'the action is: nightshift db migrate');
    }
    const config = loadConfig(io.env);
    const store = new Store(storeOptions(config, io.env, 'nightshift cli'));
    try {
      const result = await migrate(store);
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ database: redactUrl(config.databaseUrl), ...result })}\n`);
      } else if (result.applied.length === 0) {
        io.stdout.write(`schema "${result.schema}" is up to date (version ${result.version}) in ${redactUrl(config.databaseUrl)}\n`);
      } else {
        for (const m of result.applied) io.stdout.write(`applied ${String(m.version).padStart(3, '0')}-${m.name}\n`);
        io.stdout.write(`schema "${result.schema}" is at version ${result.version} in ${redactUrl(config.databaseUrl)}\n`);
      }
      return 0;
    } finally {
      await store.close();
    }
  },
});
