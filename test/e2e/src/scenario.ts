// What every disaster of the suite is: it runs against its own stack, tells a person what happens as it goes,
// and ends with checks (a claim, whether it held, the numbers behind it) that the tests assert and the demo shows.

/** Prints one line of the story for a person (the demo) or for a test's diagnostics. */
export type Narrate = (line: string) => void;

/** One claim about what Nightshift did, whether it held, and the evidence in numbers. */
export interface Check {
  readonly claim: string;
  readonly ok: boolean;
  readonly evidence: string;
}

export function check(claim: string, ok: boolean, evidence: string): Check {
  return Object.freeze({ claim, ok, evidence });
}

export interface ScenarioContext {
  readonly narrate: Narrate;
  /** Where the services' lines go (appended). Default: a file per stack in the temp folder. */
  readonly logFile?: string;
}

/** What happened in one scenario: its checks and the facts they were judged on. */
export interface ScenarioResult<Facts> {
  readonly checks: readonly Check[];
  readonly facts: Facts;
  /** Where the services' lines went. */
  readonly logFile: string;
}

export interface Scenario<Facts = unknown> {
  /** Short, for file names and prefixes: `crashed-service`. */
  readonly name: string;
  /** What Nightshift promises here: `A crashed service comes back`. */
  readonly title: string;
  /** What the scenario does to it: `the worker process is killed (kill -9) while tasks keep coming`. */
  readonly disaster: string;
  /** What the same disaster did to the lecture's while-True scheduler. */
  readonly withoutNightshift: string;
  run(context: ScenarioContext): Promise<ScenarioResult<Facts>>;
}

/** `a, b and c`. */
export function list(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** `1.2 s`. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `HH:MM:SS.mmm` in UTC, as fire times are shown. */
export function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}
