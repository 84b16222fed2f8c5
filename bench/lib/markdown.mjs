// Small formatting helpers for bench reports.

/** A GitHub markdown table. `align`: one of 'l' | 'r' per column (default: left). */
export function markdownTable(headers, rows, align = []) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c ?? '')));
  const width = headers.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const pad = (s, i) => (align[i] === 'r' ? s.padStart(width[i]) : s.padEnd(width[i]));
  const line = (r) => `| ${r.map(pad).join(' | ')} |`;
  const rule = `| ${width.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}

/** A number with `digits` decimals and thousands separators ("12,345.6"); '–' for NaN/undefined. */
export function fmt(n, digits = 0) {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
