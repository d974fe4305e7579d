import { writeFileSync } from 'node:fs';

// Tables as aligned text for the terminal and as Markdown for docs/benchmarks.md.
// `columns`: [{title, value: (row) => string, left?: true}]; numbers are right-aligned.

export function textTable(columns, rows) {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i].length)));
  const line = (values) =>
    values.map((v, i) => (columns[i].left ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ').trimEnd();
  return [line(columns.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function markdownTable(columns, rows) {
  const line = (values) => `| ${values.join(' | ')} |`;
  return [
    line(columns.map((c) => c.title)),
    line(columns.map((c) => (c.left ? '---' : '---:'))),
    ...rows.map((row) => line(columns.map((c) => c.value(row)))),
  ].join('\n');
}

// Fixed-point text for a number, '-' for NaN or undefined.
export const fixed = (v, digits) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
export const sci = (v) => (Number.isFinite(v) ? v.toExponential(1) : '-');


// Prints a report (header lines, then [title, columns, rows] sections as text tables) and, when
// `markdownFile` is given, writes it there as Markdown for the docs.
export function printReport(lines, sections, markdownFile) {
  console.log(['', ...lines, ...sections.map(([title, cols, data]) => `\n${title}\n${textTable(cols, data)}`)].join('\n'));
  if (!markdownFile) return;
  const md = sections.map(([title, cols, data]) => `### ${title}\n\n${markdownTable(cols, data)}`);
  writeFileSync(markdownFile, `${[lines.join('  \n'), ...md].join('\n\n')}\n`);
  process.stderr.write(`wrote ${markdownFile}\n`);
}
