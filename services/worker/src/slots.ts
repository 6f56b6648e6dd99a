/**
 * The sandboxes as slots: an attempt takes one before it starts and gives it back when it ends.
 * Messages that arrived while every slot was taken wait here, in arrival order: the worker's "reserved" tasks.
 */
export class Slots<Info> {
  #free: number;
  readonly total: number;
  readonly #waiting: Array<{ readonly info: Info; readonly resolve: (granted: boolean) => void }> = [];

  constructor(total: number) {
    this.total = total;
    this.#free = total;
  }

  /** Resolves `true` when a slot is taken for `info`, or `false` if the wait was cancelled (shutdown). */
  acquire(info: Info): Promise<boolean> {
    if (this.#free > 0) {
      this.#free -= 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.#waiting.push({ info, resolve }));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next.resolve(true);
    else this.#free += 1;
  }

  /** Removes one waiting entry; true if it was waiting. */
  withdraw(match: (info: Info) => boolean): boolean {
    const index = this.#waiting.findIndex((w) => match(w.info));
    if (index === -1) return false;
    this.#waiting.splice(index, 1)[0]?.resolve(false);
    return true;
  }

  /** Ends every wait with `false` and returns what was waiting. */
  cancelAll(): Info[] {
    const waiting = this.#waiting.splice(0);
    for (const w of waiting) w.resolve(false);
    return waiting.map((w) => w.info);
  }

  get busy(): number {
    return this.total - this.#free;
  }

  get reserved(): readonly Info[] {
    return this.#waiting.map((w) => w.info);
  }
}
