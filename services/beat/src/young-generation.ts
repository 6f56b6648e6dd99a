import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * How large V8's young generation (its new space: both semi-spaces, MB) may grow while beat builds its entries.
 * Measured with 100,000 entries: 32 MB held a leader's start at about 300 MB RSS, where the young generation grown
 * to its 128 MB ceiling (and seldom given back) made it 380-435 MB.
 */
export const BUILDING_YOUNG_GENERATION_MB = 32;
/** V8's own `--semi-space-growth-factor`, set back once no build runs. */
const V8_GROWTH_FACTOR = 2;
/** Flags with which whoever started the process chose the young generation's size: then it is left alone. */
const CHOSEN_AT_LAUNCH = /--(max|min)[-_]semi[-_]space[-_]size|--semi[-_]space[-_]growth[-_]factor/;

let holds = 0;
let capped = false;
let observer: PerformanceObserver | undefined;

/**
 * Keeps V8's young generation from growing past `BUILDING_YOUNG_GENERATION_MB` until the returned function is called
 * (every hold released, it grows as V8 sees fit again). For a build of what lives long, such as 100,000 entries read
 * and started: V8 doubles the young generation whenever more survives its scavenges than it holds, which such a
 * build does until the 128 MB ceiling, yet a larger nursery buys it nothing (what it builds does not die young).
 * Afterwards the young generation may grow again for what does die young (a boundary's runs), so a boundary's
 * scavenges are as few as before; a cap given at launch (`--max-semi-space-size`) would cap those too, and cannot
 * be given by beat itself on every path it is started by.
 *
 * V8 reads its growth factor each time it grows the young generation, so setting it (`v8.setFlagsFromString`) while
 * running takes effect; the sizes are V8's and only ever bounded here. A process started with its own young
 * generation flags is left as it was started.
 */
export function holdYoungGeneration(): () => void {
  if (CHOSEN_AT_LAUNCH.test([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '))) return () => {};
  holds += 1;
  if (holds === 1) {
    capIfGrown();
    // V8 grows the young generation in a garbage collection: the cap is looked at after each.
    observer = new PerformanceObserver(capIfGrown);
    observer.observe({ entryTypes: ['gc'] });
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holds -= 1;
    if (holds > 0) return;
    observer?.disconnect();
    observer = undefined;
    if (capped) setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
    capped = false;
  };
}

/** The young generation's size now (MB). */
export function youngGenerationMb(): number {
  const space = getHeapSpaceStatistics().find((one) => one.space_name === 'new_space');
  return (space?.space_size ?? 0) / 1_048_576;
}

function capIfGrown(): void {
  if (capped || youngGenerationMb() < BUILDING_YOUNG_GENERATION_MB) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  capped = true;
}
