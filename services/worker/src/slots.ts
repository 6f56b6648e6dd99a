/**
 * The sandboxes as slots: an attempt takes one before it starts and gives it back when it ends.
 * Messages that arrived while every slot was taken wait here, in arrival order: the worker's "reserved" tasks.
 */
export class Slots<Info> {
  /** Free slots; below 0 after a shrink, until that many taken ones are given back. */
  #free: number;
  #total: number;
  readonly #waiting: Array<{ readonly info: Info; readonly resolve: (granted: boolean) => void }> = [];

  constructor(total: number) {
    this.#total = total;
    this.#free = total;
  }

  get total(): number {
    return this.#total;
  }

  /** Changes the number of slots (a pool grown or shrunk): waits are granted at once on a grow; a shrink takes effect as slots are given back. */
  resize(total: number): void {
    this.#free += total - this.#total;
    this.#total = total;
    while (this.#free > 0 && this.#waiting.length > 0) {
      this.#free -= 1;
      this.#waiting.shift()?.resolve(true);
    }
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
    if (this.#free < 0) {
      this.#free += 1;
      return;
    }
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
