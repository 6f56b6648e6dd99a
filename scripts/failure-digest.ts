// What failed, gathered from turbo's output as it streams past, so that the end of `npm test` names each
// failing test with its error even when a CI log keeps only the last screenful. Turbo prefixes every line
// of a task with `<package>:<task>: `; node's spec reporter marks a failed test with `✖` and, at the end of
// a file's run, repeats each failure with its error under `✖ failing tests:`.

const TASK_PREFIX = /^(@?[\w./-]+:[\w:-]+): ?(.*)$/;
// ANSI colour codes: turbo keeps them when it is told to force colour, and they would break the matching.
// eslint-disable-next-line no-control-regex -- the escape character is what is matched
const ANSI = /\x1b\[[0-9;]*m/g;
const LINES_PER_TASK = 80;

export class FailureDigest {
  readonly #linesByTask = new Map<string, string[]>();
  readonly #inFailureSection = new Set<string>();
  #partial = '';

  /** Feeds a chunk of turbo's output; lines may be split across chunks. */
  add(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#addLine(line.replace(ANSI, ''));
  }

  #addLine(line: string): void {
    const match = TASK_PREFIX.exec(line);
    if (!match) return;
    const [, task = '', text = ''] = match;
    if (text.startsWith('✖ failing tests')) this.#inFailureSection.add(task);
    else if (text.startsWith('ℹ ') || text.startsWith('npm error')) this.#inFailureSection.delete(task);
    const kept = this.#inFailureSection.has(task) || text.includes('✖') || /\bnot ok\b/.test(text);
    if (!kept) return;
    const lines = this.#linesByTask.get(task) ?? [];
    if (lines.length < LINES_PER_TASK) lines.push(text);
    else if (lines.length === LINES_PER_TASK) lines.push('… (more in the task output above)');
    this.#linesByTask.set(task, lines);
  }

  /** The failures per task, ready to print; empty when nothing failed. */
  render(): string {
    const sections: string[] = [];
    for (const [task, lines] of this.#linesByTask) {
      sections.push(`  ${task}\n${lines.map((line) => `    ${line}`).join('\n')}`);
    }
    return sections.join('\n');
  }
}
