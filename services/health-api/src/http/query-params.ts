import { parseDuration } from '@nightshift/core';
import { badParameter } from './api-error.ts';

/** Reads query parameters one by one; every problem is a 400 naming the parameter. Unknown parameters are refused too. */
export class QueryParams {
  readonly #raw: Record<string, unknown>;
  readonly #read = new Set<string>();

  constructor(raw: unknown) {
    this.#raw = typeof raw === 'object' && raw !== null ? raw as Record<string, unknown> : {};
  }

  string(name: string, pattern?: RegExp): string | undefined {
    this.#read.add(name);
    const value = this.#raw[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw badParameter(name, 'give it once');
    if (value.length > 500) throw badParameter(name, 'is too long');
    if (pattern && !pattern.test(value)) throw badParameter(name, `${JSON.stringify(value)} is not valid`);
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) throw badParameter(name, `${JSON.stringify(value)} must be one of ${allowed.join(', ')}`);
    return value as T;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw badParameter(name, `${JSON.stringify(value)} must be a whole number from ${min} to ${max}`);
    return Number(value);
  }

  /** An ISO 8601 time, or a duration meaning that long ago (`since=1h`). */
  time(name: string, nowMs = Date.now()): Date | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (/^\d+(\.\d+)?(ms|s|m|h|d)/.test(value)) {
      try {
        return new Date(nowMs - parseDuration(value, name));
      } catch {
        throw badParameter(name, `${JSON.stringify(value)} is not a time or a duration`);
      }
    }
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw badParameter(name, `${JSON.stringify(value)} is not an ISO 8601 time (e.g. 2030-01-01T00:00:00Z) or a duration (e.g. 1h)`);
    return new Date(ms);
  }

  duration(name: string, minMs: number, maxMs: number): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    let ms: number;
    try {
      ms = parseDuration(value, name);
    } catch {
      throw badParameter(name, `${JSON.stringify(value)} is not a duration (e.g. 1m, 1h)`);
    }
    if (ms < minMs || ms > maxMs) throw badParameter(name, `must be from ${minMs}ms to ${maxMs}ms`);
    return ms;
  }

  /** Refuses parameters no reader asked for: a typo should not silently return everything. */
  done(): void {
    const unknown = Object.keys(this.#raw).find((key) => !this.#read.has(key));
    if (unknown !== undefined) throw badParameter(unknown, `unknown parameter (known: ${[...this.#read].join(', ')})`);
  }
}
