// node bench/llm/compare.mjs [options]: Kiln against llama.cpp on the same random weights,
// prompt processing (ppN) and generation (tgN) tokens/s, as `kiln bench-llm` and llama-bench
// measure them. bench/llm/run.sh is the usual way in; docs/llm.md ("Benchmarks against
// llama.cpp") explains the method. For each format and thread count the engines alternate in
// rounds (Kiln, llama.cpp, Kiln, ...) so that both see the same machine state; each round is a
// fresh process per engine. The table holds the median over rounds of each round's median, the
// ratio, and for tg the fraction of the memory-bandwidth roofline.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { count, summarize } from '../stats.mjs';
import { fixed, markdownTable, textTable } from '../table.mjs';
import { FORMATS, weightBytesPerToken } from './formats.mjs';
import { ensureModels, ggufFile, hfDir } from './models.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const USAGE = `usage: bench/llm/run.sh [options]   (or: node bench/llm/compare.mjs [options])
  --formats LIST     comma-separated, from ${Object.keys(FORMATS).join(',')} (default: all)
  --threads LIST     thread counts (default: 1,2)
  --rounds N         Kiln/llama.cpp alternations per format and thread count (default 3; --quick 2)
  --reps K           repetitions of each test per engine per round (default 1)
  -p, --prompt-tokens N   tokens of the pp test (default 512; --quick 64)
  -n, --gen-tokens N      tokens of the tg test (default 128; --quick 16)
  --quick            the small settings above, to see the harness work in a few minutes
  --models DIR       where bench/llm/make_model.py writes the models, made when missing
                     (default /tmp/kiln-llm-bench)
  --markdown FILE    also write the table as Markdown (for docs/llm.md)
  --build DIR        Kiln's build folder, for kiln, bench/read_bandwidth and bench/check_models (default: build)
  --kiln FILE        the kiln binary (default: BUILD/kiln)`;

function parseOptions() {
  const { values: v } = parseArgs({
    options: {
      formats: { type: 'string' }, threads: { type: 'string' }, rounds: { type: 'string' },
      reps: { type: 'string' }, 'prompt-tokens': { type: 'string', short: 'p' },
      'gen-tokens': { type: 'string', short: 'n' }, quick: { type: 'boolean' }, models: { type: 'string' },
      markdown: { type: 'string' }, build: { type: 'string' }, kiln: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const formats = v.formats ? v.formats.split(',') : Object.keys(FORMATS);
  const unknown = formats.filter((f) => !(f in FORMATS));
  if (unknown.length) throw new Error(`unknown format(s) ${unknown.join(', ')}; known: ${Object.keys(FORMATS).join(', ')}`);
  const build = resolve(v.build ?? join(ROOT, 'build'));
  const opts = {
    formats,
    threads: (v.threads ?? '1,2').split(',').map((t) => count('threads', t, 1)),
    rounds: count('rounds', v.rounds, v.quick ? 2 : 3),
    reps: count('reps', v.reps, 1),
    promptTokens: count('prompt-tokens', v['prompt-tokens'], v.quick ? 64 : 512, 0),
    genTokens: count('gen-tokens', v['gen-tokens'], v.quick ? 16 : 128, 0),
    models: resolve(v.models ?? '/tmp/kiln-llm-bench'),
    markdown: v.markdown,
    kiln: resolve(v.kiln ?? join(build, 'kiln')),
    readBandwidth: join(build, 'bench', 'read_bandwidth'),
    checkModels: join(build, 'bench', 'check_models'),
  };
  if (!opts.promptTokens && !opts.genTokens) throw new Error('-p and -n are both 0: nothing to measure');
  return opts;
}

const log = (text) => process.stderr.write(`${text}\n`);

// GB/s per thread count from bench/read_bandwidth.
function measureBandwidth(opts) {
  return JSON.parse(execFileSync(opts.readBandwidth, opts.threads.map(String), { encoding: 'utf8' })).gb_per_s;
}

// Other load on the machine can only lower a measured bandwidth: the best of the measurements.
const bestBandwidth = (opts, a, b) => Object.fromEntries(opts.threads.map((t) => [t, Math.max(a[t], b[t])]));

const jsonLines = (text) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

function runKiln(opts, format, threads) {
  const args = ['bench-llm', hfDir(opts), '-p', String(opts.promptTokens), '-n', String(opts.genTokens),
    '-t', String(threads), '-r', String(opts.reps), '--quant', FORMATS[format].kilnQuant, '--group', '32', '--json'];
  return jsonLines(execFileSync(opts.kiln, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
}

function runLlamaCpp(opts, format, threads, info) {
  const args = [join(HERE, 'llama_cpp_bench.mjs'), ggufFile(opts, format), '-p', String(opts.promptTokens),
    '-n', String(opts.genTokens), '-t', String(threads), '-r', String(opts.reps), ...(info ? ['--info'] : [])];
  return jsonLines(execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
}

// Rows {test, threads, format, kiln: [t/s per round], llama: [...], cpuPerWall: [...]} for one format.
function measureFormat(opts, format, first) {
  const rows = new Map();
  const row = (test, threads) => {
    const key = `${test}/${threads}`;
    if (!rows.has(key)) rows.set(key, { test, threads, format, kiln: [], llama: [], cpuPerWall: [] });
    return rows.get(key);
  };
  for (const threads of opts.threads) {
    for (let round = 0; round < opts.rounds; ++round) {
      log(`${format}, ${threads} thread(s): round ${round + 1}/${opts.rounds}`);
      for (const r of runKiln(opts, format, threads)) row(r.test, threads).kiln.push(r.tokens_per_s);
      for (const r of runLlamaCpp(opts, format, threads, first && round === 0 && threads === opts.threads[0])) {
        row(r.test, threads).llama.push(r.tokens_per_s);
        row(r.test, threads).cpuPerWall.push(r.cpu_per_wall);
      }
    }
  }
  return [...rows.values()].map((r) => ({ ...r, kilnMedian: summarize(r.kiln).median, llamaMedian: summarize(r.llama).median }));
}

const roofline = (r, engine) => {
  if (!r.test.startsWith('tg')) return NaN;
  const median = engine === 'kiln' ? r.kilnMedian : r.llamaMedian;
  return (100 * median * r.bytesPerToken[engine]) / (r.bandwidth * 1e9);
};
const spread = (values) => `${fixed(Math.min(...values), 2)}-${fixed(Math.max(...values), 2)}`;
const columns = [
  { title: 'test', value: (r) => r.test, left: true },
  { title: 'threads', value: (r) => String(r.threads) },
  { title: 'format', value: (r) => FORMATS[r.format].label, left: true },
  { title: 'Kiln t/s', value: (r) => fixed(r.kilnMedian, 2) },
  { title: 'llama.cpp t/s', value: (r) => fixed(r.llamaMedian, 2) },
  { title: 'Kiln/llama.cpp', value: (r) => fixed(r.kilnMedian / r.llamaMedian, 2) },
  { title: 'Kiln %roofline', value: (r) => fixed(roofline(r, 'kiln'), 0) },
  { title: 'llama.cpp %roofline', value: (r) => fixed(roofline(r, 'llama'), 0) },
  { title: 'Kiln range', value: (r) => spread(r.kiln) },
  { title: 'llama.cpp range', value: (r) => spread(r.llama) },
  { title: 'llama.cpp cpu/wall', value: (r) => fixed(summarize(r.cpuPerWall).median, 2) },
];

function header(opts, bandwidth, config) {
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim();
  const llamaVersion = JSON.parse(readFileSync(join(HERE, 'node_modules/node-llama-cpp/package.json'), 'utf8')).version;
  const bw = opts.threads.map((t) => `${t} thread${t > 1 ? 's' : ''} ${fixed(bandwidth[t], 1)}`).join(', ');
  return [
    `Kiln ${git || '(unknown commit)'} (${opts.kiln}) against llama.cpp (node-llama-cpp ${llamaVersion} prebuilt CPU), ${new Date().toISOString().slice(0, 10)}`,
    `${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} logical CPUs; read bandwidth GB/s: ${bw}`,
    `random TinyLlama-1.1B-shaped Llama (${config.num_hidden_layers} layers, hidden ${config.hidden_size}, vocab ${config.vocab_size}); ` +
      `pp${opts.promptTokens} / tg${opts.genTokens}; ${opts.rounds} round(s) per engine, alternating, ${opts.reps} rep(s) each; medians over rounds`,
    '%roofline: tokens/s x weight bytes read per token / read bandwidth',
  ];
}

function main() {
  const opts = parseOptions();
  for (const file of [opts.kiln, opts.readBandwidth, opts.checkModels])
    if (!existsSync(file)) throw new Error(`${file} not found: build first (scripts/build.sh)`);
  if (!existsSync(join(HERE, 'node_modules/node-llama-cpp')))
    throw new Error('node-llama-cpp is missing: run scripts/setup_bench_llm.sh first');
  ensureModels(opts, log);
  const config = JSON.parse(readFileSync(join(hfDir(opts), 'config.json'), 'utf8'));
  log('measuring the read bandwidth');
  const before = measureBandwidth(opts);
  const rows = opts.formats.flatMap((format, i) => measureFormat(opts, format, i === 0));
  log('measuring the read bandwidth again');
  const bandwidth = bestBandwidth(opts, before, measureBandwidth(opts));
  for (const r of rows) {
    r.bandwidth = bandwidth[r.threads];
    r.bytesPerToken = { kiln: weightBytesPerToken(config, r.format, 'kiln'), llama: weightBytesPerToken(config, r.format, 'llama') };
  }
  rows.sort((a, b) => a.test.localeCompare(b.test) || a.threads - b.threads ||
    Object.keys(FORMATS).indexOf(a.format) - Object.keys(FORMATS).indexOf(b.format));
  const lines = header(opts, bandwidth, config);
  console.log(['', ...lines, '', textTable(columns, rows)].join('\n'));
  if (opts.markdown) {
    writeFileSync(opts.markdown, `${lines.join('  \n')}\n\n${markdownTable(columns, rows)}\n`);
    log(`wrote ${opts.markdown}`);
  }
}

try {
  main();
} catch (e) {
  console.error(`bench/llm/compare: ${e.message}`);
  process.exit(1);
}
