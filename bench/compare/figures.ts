// Rounds of one figure, and how they are summed up: median, min and max, never a mean (one noisy
// moment on a shared machine would move a mean; it moves a median by one place).

/** The values a figure took over the counted rounds. */
export class Figure {
  readonly label: string;
  readonly unit: string;
  readonly values: number[] = [];

  constructor(label: string, unit: string) {
    this.label = label;
    this.unit = unit;
  }

  add(value: number): void {
    this.values.push(value);
  }

  get median(): number {
    return percentile(this.values, 0.5);
  }

  /** One line: label, median, min and max. */
  line(digits = 0): string {
    if (this.values.length === 0) return `${this.label.padEnd(58)} (not measured)`;
    const at = (v: number) => v.toFixed(digits);
    return `${this.label.padEnd(58)} ${at(this.median).padStart(8)} ${this.unit.padEnd(8)} min ${at(Math.min(...this.values))}, max ${at(Math.max(...this.values))}`;
  }
}

/** The value below which a share `p` of the values lie (nearest rank); the median is `p = 0.5`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))] ?? Number.NaN;
}

/** Ratios of two figures measured in the same rounds, round by round: a noisy round moves both sides. */
export function ratio(label: string, numerator: Figure, denominator: Figure): Figure {
  const figure = new Figure(label, '×');
  numerator.values.forEach((value, round) => {
    const base = denominator.values[round];
    if (base !== undefined) figure.add(value / base);
  });
  return figure;
}

/** Time between the first and last of `count` completions, as completions per second over that span. */
export function spanRate(count: number, firstMs: number, lastMs: number): number {
  return (count - 1) / ((lastMs - firstMs) / 1000);
}
