/**
 * The message id of a run: the same for every replica and every attempt, so a consumer that has seen it
 * knows the run, and the broker's copy of a republished message carries it too.
 */
export function runId(entry: string, scheduledForMs: number): string {
  return `beat:${entry}:${new Date(scheduledForMs).toISOString()}`;
}
