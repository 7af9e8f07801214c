/**
 * Pure text formatting of benchmark results: numbers, ratios, target marks and plain-text tables.
 * Missing figures are `undefined` and print as "–" so a peer that did not run never looks like 0.
 */

/** A figure that may be missing (engine not run, metric not applicable). */
export type Figure = number | undefined;

const MISSING = '–';
const BYTES_PER_MB = 1024 * 1024;

/** Formats a number with thousands separators and at most `fractionDigits` decimals. */
export function formatNumber(value: Figure, fractionDigits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return MISSING;
  return value.toLocaleString('en-US', { minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits });
}

/** Bytes as mebibytes with one decimal ("12.3"). */
export function formatMegabytes(sizeBytes: Figure): string {
  return sizeBytes === undefined ? MISSING : formatNumber(sizeBytes / BYTES_PER_MB, 1);
}

/** `ours / peer` as "1.23×"; "–" when either side is missing or the peer is zero. */
export function formatRatio(ours: Figure, peer: Figure): string {
  const ratio = ratioOf(ours, peer);
  return ratio === undefined ? MISSING : `${ratio.toFixed(2)}×`;
}

/** `ours / peer`, or undefined when it cannot be computed. */
export function ratioOf(ours: Figure, peer: Figure): number | undefined {
  if (ours === undefined || peer === undefined || !Number.isFinite(ours) || !Number.isFinite(peer) || peer === 0) return undefined;
  return ours / peer;
}

/** A target's verdict: met, NOT met (capitalised so it stands out), or n/a when not measured. */
export function formatTargetMark(met: boolean | undefined): string {
  if (met === undefined) return 'n/a';
  return met ? 'met' : 'NOT met';
}

/** Column alignment for `renderTable`. */
export type Align = 'left' | 'right';

/**
 * Renders a plain-text table: header, a dashed rule, then rows, columns padded to their widest
 * cell. The first column is left-aligned and the others right-aligned unless `aligns` says otherwise,
 * because the first column names a row and the others hold numbers.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], aligns?: readonly Align[]): string {
  const columnCount = header.length;
  for (const row of rows) {
    if (row.length !== columnCount) throw new RangeError(`table row has ${row.length} cells, header has ${columnCount}`);
  }
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]!.length)));
  const alignOf = (column: number): Align => aligns?.[column] ?? (column === 0 ? 'left' : 'right');
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (alignOf(column) === 'left' ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}
