import { nextFireTimes, type Schedule } from '@nightshift/schedule';

/** The next `count` fire times after `fromIso`, as ISO strings in UTC. */
export function next(schedule: Schedule, zone: string, fromIso: string, count: number): string[] {
  return nextFireTimes(schedule, Date.parse(fromIso), zone, count).map((ms) => new Date(ms).toISOString());
}

/** `'2025-03-30T01:00Z'` → `'2025-03-30T01:00:00.000Z'`, so expectations stay short. */
export function iso(short: string): string {
  return new Date(short).toISOString();
}

/** A small deterministic pseudo-random sequence (mulberry32), for simulated clocks. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
