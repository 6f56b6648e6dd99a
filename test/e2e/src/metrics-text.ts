// Reading a service's `/metrics` (Prometheus text format) without Prometheus: the samples of one metric.

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of `name` (the full sample name, e.g. `nightshift_tasks_total`) in a `/metrics` text. */
export function samples(text: string, name: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !/^[{ ]/.test(line.slice(name.length, name.length + 1))) continue;
    const match = /^[^{ ]+(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1] as string, l[2] as string]));
    found.push({ labels, value: Number(match[2]) });
  }
  return found;
}

/** The sum of the samples of `name` whose labels include `where`. */
export function total(text: string, name: string, where: Readonly<Record<string, string>> = {}): number {
  return samples(text, name)
    .filter((s) => Object.entries(where).every(([key, value]) => s.labels[key] === value))
    .reduce((sum, s) => sum + s.value, 0);
}
