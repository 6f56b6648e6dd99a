// The parsers settings are declared with. Each throws a ConfigError that starts with the variable's name and
// quotes the text it refused (passwords in a URL masked), so every service words the same mistake the same way.
import { parseDuration } from './duration.ts';
import { ConfigError } from './errors.ts';
import { redactUrl } from './secrecy.ts';
import type { SettingParser } from './setting.ts';

function refuse(name: string, reason: string): ConfigError {
  return new ConfigError(`${name}: ${reason}`, { field: name });
}

/** Any text, as it is (trimmed). */
export const text: SettingParser<string> = (raw) => raw;

/** A whole number from `min` to `max`. */
export function wholeNumber(min: number, max: number): SettingParser<number> {
  return (raw, name) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) throw refuse(name, `${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
    return value;
  };
}

/** A TCP port; `0` asks the system for a free one. */
export const port: SettingParser<number> = wholeNumber(0, 65_535);

/** A number from 0 to 1: a share, a rate. */
export const ratio: SettingParser<number> = (raw, name) => {
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || value > 1) throw refuse(name, `${JSON.stringify(raw)} must be a number from 0 to 1`);
  return value;
};

/** A duration (`90s`, `5m`, `1h30m`, or milliseconds), in milliseconds, at least `minMs`. */
export function duration(minMs = 0): SettingParser<number> {
  return (raw, name) => {
    const ms = parseDuration(raw, name);
    if (ms < minMs) throw refuse(name, `must be at least ${minMs}ms`);
    return ms;
  };
}

/** `1`, `true`, `yes` or `on`; `0`, `false`, `no` or `off`. */
export const boolean: SettingParser<boolean> = (raw, name) => {
  const word = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(word)) return true;
  if (['0', 'false', 'no', 'off'].includes(word)) return false;
  throw refuse(name, `${JSON.stringify(raw)} must be 1 or 0 (true or false)`);
};

/** One of `choices`, as written. */
export function oneOf<const C extends string>(choices: readonly C[]): SettingParser<C> {
  return (raw, name) => {
    if (!(choices as readonly string[]).includes(raw)) throw refuse(name, `${JSON.stringify(raw)} must be one of ${choices.join(', ')}`);
    return raw as C;
  };
}

/** An absolute URL whose scheme is one of `schemes` (`['amqp', 'amqps']`); kept as written. */
export function url(schemes: readonly string[]): SettingParser<string> {
  return (raw, name) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw refuse(name, `${JSON.stringify(redactUrl(raw))} is not a URL (expected ${schemes[0]}://host:port)`);
    }
    if (!schemes.includes(parsed.protocol.replace(/:$/, ''))) {
      throw refuse(name, `scheme ${JSON.stringify(parsed.protocol)} is not one of ${schemes.map((s) => `${s}:`).join(', ')}`);
    }
    return raw;
  };
}

/** Comma-separated items, blanks dropped, each read by `item`. */
export function list<T>(item: SettingParser<T>): SettingParser<readonly T[]> {
  return (raw, name) => Object.freeze(raw.split(',').map((part) => part.trim()).filter(Boolean).map((part) => item(part, name)));
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

/** A PostgreSQL schema name Nightshift will quote: a letter or `_`, then letters, digits, `_` or `-`; at most 63. */
export const schemaName: SettingParser<string> = (raw, name) => {
  if (!SCHEMA_NAME.test(raw)) throw refuse(name, `${JSON.stringify(raw)} must start with a letter or _ and hold only letters, digits, _ or - (at most 63)`);
  return raw;
};

/** Text of at least `minLength` characters (a token). */
export function secretText(minLength: number): SettingParser<string> {
  return (raw, name) => {
    if (raw.length < minLength) throw refuse(name, `must be at least ${minLength} characters`);
    return raw;
  };
}
