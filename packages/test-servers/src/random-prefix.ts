import { randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const RANDOM_LENGTH = 8;
const MAX_LABEL_LENGTH = 24;

/**
 * A short random name, such as `t-ab12cd34` or `retry-x7k2m9qa`, for the queues, exchanges, Redis
 * keys and schemas of one test, so that tests can run side by side on the same servers. Only
 * lowercase letters, digits and `-`, starting with a letter; usable as `NIGHTSHIFT_PREFIX`. As a
 * PostgreSQL schema name it must be double-quoted (because of the `-`).
 * @param label - what the prefix is for; lowercased and reduced to letters, digits and `-`. Default: `t`.
 */
export function randomPrefix(label: string = 't'): string {
  const cleaned = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, MAX_LABEL_LENGTH)
    .replace(/-+$/, '');
  let suffix = '';
  for (let i = 0; i < RANDOM_LENGTH; i += 1) suffix += ALPHABET[randomInt(ALPHABET.length)];
  return `${cleaned === '' ? 't' : cleaned}-${suffix}`;
}
