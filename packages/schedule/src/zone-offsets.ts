import { validateTimezone } from '@nightshift/core';

const HOUR_MS = 3_600_000;
/** The offsets of a zone are read this much of real time at once (and kept): about two months. */
const CHUNK_MS = 64 * 24 * HOUR_MS;
/** Offsets are sampled this often inside a chunk; a change between two samples is then found to the second. */
const SAMPLE_MS = 6 * HOUR_MS;
/** No zone's offset has been larger than this (Manila's local mean time was -15:56): the window a wall time is looked for in. */
export const MAX_OFFSET_MS = 16 * HOUR_MS;

/** The changes of offset inside one chunk of real time: `at[i]` (ms) starts `offset[i]`; `start` holds before the first. */
interface Chunk {
  readonly start: number;
  readonly at: readonly number[];
  readonly offset: readonly number[];
}

/**
 * One IANA zone's UTC offsets (local minus UTC, in ms), read from `Intl` once per two months of real time and then
 * answered from a table: converting a wall time to instants is arithmetic, not a formatter call. This is what lets
 * 100,000 cron entries in 50 zones work out their next fire times in a fraction of a second.
 */
export class ZoneOffsets {
  readonly zone: string;
  readonly #format: Intl.DateTimeFormat;
  readonly #chunks = new Map<number, Chunk>();

  constructor(zone: string) {
    this.zone = zone;
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
    });
  }

  /** The offset at instant `ms`. */
  at(ms: number): number {
    const chunk = this.#chunk(Math.floor(ms / CHUNK_MS));
    let offset = chunk.start;
    for (let i = 0; i < chunk.at.length && (chunk.at[i] as number) <= ms; i++) offset = chunk.offset[i] as number;
    return offset;
  }

  /** Whether the offset changes anywhere in `[fromMs, toMs]`. */
  changesWithin(fromMs: number, toMs: number): boolean {
    for (let index = Math.floor(fromMs / CHUNK_MS); index <= Math.floor(toMs / CHUNK_MS); index++) {
      const { at } = this.#chunk(index);
      for (let i = 0; i < at.length; i++) if ((at[i] as number) >= fromMs && (at[i] as number) <= toMs) return true;
    }
    return false;
  }

  /** The changes in `[fromMs, toMs]`, oldest first: when, and the offsets before and after. */
  changes(fromMs: number, toMs: number): { at: number; before: number; after: number }[] {
    const out: { at: number; before: number; after: number }[] = [];
    for (let index = Math.floor(fromMs / CHUNK_MS); index <= Math.floor(toMs / CHUNK_MS); index++) {
      const chunk = this.#chunk(index);
      chunk.at.forEach((at, i) => {
        if (at >= fromMs && at <= toMs) out.push({ at, before: i === 0 ? chunk.start : chunk.offset[i - 1] as number, after: chunk.offset[i] as number });
      });
    }
    return out;
  }

  #chunk(index: number): Chunk {
    const known = this.#chunks.get(index);
    if (known !== undefined) return known;
    const from = index * CHUNK_MS;
    const start = this.#read(from);
    const at: number[] = [];
    const offset: number[] = [];
    let before = start;
    for (let sample = from; sample < from + CHUNK_MS; sample += SAMPLE_MS) {
      const end = Math.min(sample + SAMPLE_MS, from + CHUNK_MS);
      const after = this.#read(end);
      if (after === before) continue;
      // Offsets change on a whole second: find it.
      let low = Math.floor(sample / 1_000);
      let high = Math.floor(end / 1_000);
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (this.#read(middle * 1_000) === before) low = middle;
        else high = middle;
      }
      if (high * 1_000 < from + CHUNK_MS) {
        at.push(high * 1_000);
        offset.push(after);
      }
      before = after;
    }
    const chunk = { start, at, offset };
    this.#chunks.set(index, chunk);
    return chunk;
  }

  // The local wall time at `ms` (to the second), as if it were UTC, minus the instant.
  #read(ms: number): number {
    const seconds = Math.floor(ms / 1_000) * 1_000;
    const field: Record<string, number> = {};
    let bc = false;
    for (const part of this.#format.formatToParts(seconds)) {
      if (part.type === 'era') bc = part.value === 'BC';
      else if (part.type !== 'literal') field[part.type] = Number(part.value);
    }
    const year = bc ? 1 - (field.year ?? 0) : field.year ?? 1970;
    const wall = new Date(0);
    wall.setUTCFullYear(year, (field.month ?? 1) - 1, field.day ?? 1);
    wall.setUTCHours(field.hour ?? 0, field.minute ?? 0, field.second ?? 0, 0);
    return wall.getTime() - seconds;
  }
}

const zones = new Map<string, ZoneOffsets>();

/**
 * The offsets of `zone`, shared by every schedule read in it.
 * @throws ConfigError when `zone` is not an IANA zone name.
 */
export function zoneOffsets(zone: string, where: () => string): ZoneOffsets {
  let found = zones.get(zone);
  if (found === undefined) {
    validateTimezone(zone, where());
    zones.set(zone, (found = new ZoneOffsets(zone)));
  }
  return found;
}

/** The offsets of `zone` if they were asked for before (no name to check, no closure to make for an error). */
export function knownZoneOffsets(zone: string): ZoneOffsets | undefined {
  return zones.get(zone);
}
