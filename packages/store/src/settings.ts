import { defineSetting, parsers, type AnySetting } from '@nightshift/core';

/** The schema of the store's tables: one per installation, or per test. */
export const DATABASE_SCHEMA = defineSetting({
  name: 'NIGHTSHIFT_DATABASE_SCHEMA', description: 'the PostgreSQL schema of the store\'s tables (dead letters, history, schedules, alert outbox)',
  parse: parsers.schemaName, default: 'nightshift',
});

/** The settings a process using the store reads, besides the shared `NIGHTSHIFT_DATABASE_URL`. */
export const STORE_SETTINGS: readonly AnySetting[] = Object.freeze([DATABASE_SCHEMA]);
