// Plain-text tables for the commands' human output (`--json` prints values whole).

/** `2026-11-24 20:01:02Z`: ISO time, shorter, for tables. */
export function shortTime(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/**
 * `text` on one line, at most `max` characters: a longer one is cut at a space where there is one in its
 * second half, and ends in `…` (for tables; `--json` prints values whole).
 */
export function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  const kept = line.slice(0, max - 1);
  const end = line[max - 1] === ' ' ? kept.length : kept.lastIndexOf(' ');
  return `${(end >= max / 2 ? kept.slice(0, end) : kept).trimEnd()}…`;
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')).join('\n');
}
