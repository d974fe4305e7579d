// Latency statistics, defined as `kiln bench` defines them: p90 is the nearest-rank percentile,
// the median averages the middle two of an even count.
export function summarize(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const n = s.length;
  if (!n) return { min: NaN, median: NaN, p90: NaN, max: NaN };
  return {
    min: s[0],
    median: n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]),
    p90: s[Math.min(n, Math.max(1, Math.ceil(0.9 * n))) - 1],
    max: s[n - 1],
  };
}

// An integer command-line option `--name` of at least `min`; `fallback` when it was not given.
export function count(name, text, fallback, min = 1) {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${text}'`);
  return n;
}
