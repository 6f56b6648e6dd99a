import { BadParameterError } from '@nightshift/core';

/**
 * The WHERE clause of a listing, built a condition at a time with numbered parameters, and the keyset page
 * (newest first by a time column, then id) that every listing of the store uses.
 */
export class ListFilter {
  readonly #where: string[] = [];
  readonly #values: unknown[] = [];

  /** Adds a condition; `sql` receives its parameter's number. */
  add(sql: (n: number) => string, value: unknown): void {
    this.#values.push(value);
    this.#where.push(sql(this.#values.length));
  }

  /** Adds `column IN (…)` for the values of `wanted` (one or many), each checked against `allowed`. */
  addOneOf<T extends string>(column: string, parameter: string, wanted: T | readonly T[] | undefined, allowed: readonly T[]): void {
    const list: readonly T[] = wanted === undefined ? [] : typeof wanted === 'string' ? [wanted] : wanted;
    for (const value of list) {
      if (!allowed.includes(value)) throw new BadParameterError(parameter, `${parameter} ${JSON.stringify(value)} must be one of ${allowed.join(', ')}`);
    }
    if (list.length === 1) this.add((n) => `${column} = $${n}`, list[0]);
    else if (list.length > 1) this.add((n) => `${column} = ANY($${n})`, list);
  }

  /** The WHERE clause alone (empty without conditions), for a count or an unpaged selection. */
  where(): { readonly text: string; readonly values: readonly unknown[] } {
    return { text: this.#where.length > 0 ? `WHERE ${this.#where.join(' AND ')}` : '', values: this.#values };
  }

  /**
   * The query of one page: rows older than `after` (a cursor from `cursorOf`), newest first by `timeColumn`
   * then id, one more than `limit` so that the caller knows whether a next page exists.
   */
  page(select: string, timeColumn: string, after: string | undefined, limit: number): { readonly text: string; readonly values: readonly unknown[] } {
    if (after !== undefined) {
      const cursor = readCursor(after);
      this.#values.push(cursor.time, cursor.id);
      this.#where.push(`(${timeColumn}, id) < ($${this.#values.length - 1}, $${this.#values.length})`);
    }
    this.#values.push(limit + 1);
    const where = this.#where.length > 0 ? `WHERE ${this.#where.join(' AND ')}` : '';
    return { text: `${select} ${where} ORDER BY ${timeColumn} DESC, id DESC LIMIT $${this.#values.length}`, values: this.#values };
  }

  /**
   * The query of one page ordered by an expression (`keySql`, selected as `keyColumn`) then id, in `order`:
   * rows after `after` (a cursor from `sortCursor` for the same sort and order), one more than `limit`.
   */
  sortedPage(select: string, keyColumn: string, keySql: string, order: 'asc' | 'desc', after: string | undefined, sort: string, limit: number): { readonly text: string; readonly values: readonly unknown[] } {
    if (after !== undefined) {
      const cursor = readSortCursor(after, sort, order);
      this.#values.push(cursor.value, cursor.id);
      this.#where.push(`(${keySql}, id) ${order === 'asc' ? '>' : '<'} ($${this.#values.length - 1}, $${this.#values.length})`);
    }
    this.#values.push(limit + 1);
    const where = this.#where.length > 0 ? `WHERE ${this.#where.join(' AND ')}` : '';
    const direction = order === 'asc' ? 'ASC' : 'DESC';
    return { text: `${select.replace(/^SELECT /, `SELECT ${keyColumn}, `)} ${where} ORDER BY ${keySql} ${direction}, id ${direction} LIMIT $${this.#values.length}`, values: this.#values };
  }
}

/** The cursor of the next page of a sorted listing: the sort, the order, the last row's key and id. */
export function sortCursor(sort: string, order: string, value: unknown, id: string): string {
  // pg reads timestamptz '-infinity' (the stand-in for an empty time) as -Infinity, which JSON cannot hold.
  const key = value instanceof Date ? (Number.isFinite(value.getTime()) ? value.toISOString() : '-infinity') : value === -Infinity ? '-infinity' : value;
  return Buffer.from(JSON.stringify([sort, order, key, id])).toString('base64url');
}

function readSortCursor(cursor: string, sort: string, order: string): { value: unknown; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || typeof parsed[3] !== 'string') throw new BadParameterError('after', `${JSON.stringify(cursor)} is not a cursor from a previous page`);
  if (parsed[0] !== sort || parsed[1] !== order) throw new BadParameterError('after', `the cursor is of a page sorted by ${String(parsed[0])} ${String(parsed[1])}, not ${sort} ${order}`);
  return { value: parsed[2], id: parsed[3] };
}

/** The page size asked for, or `fallback`; refused naming `limit` unless a whole number from 1 to `max`. */
export function pageLimit(limit: number | undefined, max: number, fallback = 50): number {
  const value = limit ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new BadParameterError('limit', `limit ${JSON.stringify(value)} must be a whole number from 1 to ${max}`);
  return value;
}

/** The first `limit` rows, and the cursor of the next page when there were more. */
export function onePage<T extends { readonly id: string }>(rows: readonly T[], limit: number, timeOf: (row: T) => string): { items: T[]; next?: string } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return rows.length > limit && last !== undefined ? { items, next: cursorOf(timeOf(last), last.id) } : { items };
}

function cursorOf(time: string, id: string): string {
  return Buffer.from(`${time}|${id}`).toString('base64url');
}

function readCursor(cursor: string): { time: string; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  const time = text.slice(0, bar);
  const id = text.slice(bar + 1);
  if (bar < 0 || Number.isNaN(Date.parse(time)) || id === '') throw new BadParameterError('after', `${JSON.stringify(cursor)} is not a cursor from a previous page`);
  return { time, id };
}
