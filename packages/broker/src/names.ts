import { formatDuration } from '@nightshift/core';

/** The broker object names of one Nightshift installation, all under one prefix (`nightshift.q.default`). */
export interface TopologyNames {
  readonly prefix: string;
  /** Direct exchange; producers and beat publish here with routing key = queue name. */
  readonly tasks: string;
  /** Headers exchange in front of the retry ladder; routes on the `nightshift-step` header. */
  readonly retry: string;
  /** Fanout exchange for everything that is finally dead. */
  readonly dlx: string;
  /** Quorum queue behind `dlx`, consumed by the alerter. */
  readonly deadLetters: string;
  /** Topic exchange for lifecycle events. */
  readonly events: string;
  /** Fanout exchange for remote control. */
  readonly control: string;
  /**
   * Stream bound to `tasks` under `beat:journal`: a copy of every run beat publishes (declared by beat), which a new
   * leader reads to tell which runs the one before sent.
   */
  readonly beatJournal: string;
  /** `<prefix>.q.<queue>`: the work queue of a logical queue. */
  queue(name: string): string;
  /** `<prefix>.retry.<step>`: the wait queue of one ladder step, e.g. `nightshift.retry.30s`. */
  retryQueue(stepMs: number): string;
}

export function topologyNames(prefix: string): TopologyNames {
  const name = (suffix: string): string => `${prefix}.${suffix}`;
  return Object.freeze({
    prefix,
    tasks: name('tasks'),
    retry: name('retry'),
    dlx: name('dlx'),
    deadLetters: name('dead-letters'),
    events: name('events'),
    control: name('control'),
    beatJournal: name('beat.journal'),
    queue: (queue: string) => name(`q.${queue}`),
    retryQueue: (stepMs: number) => name(`retry.${stepLabel(stepMs)}`),
  });
}

/** The header value that routes a message to a ladder step. */
export function stepLabel(stepMs: number): string {
  return formatDuration(stepMs);
}

/** Message headers Nightshift sets. */
export const HEADERS = Object.freeze({
  // Not `x-`: a headers exchange ignores binding arguments that start with `x-`, so every step would match.
  step: 'nightshift-step',
  reason: 'x-nightshift-reason',
  error: 'x-nightshift-error',
  originalQueue: 'x-nightshift-original-queue',
  deadAt: 'x-nightshift-dead-at',
  worker: 'x-nightshift-worker',
  attempts: 'x-nightshift-attempts',
  firstFailedAt: 'x-nightshift-first-failed-at',
});
