// node bench/compare.mjs [options]: Kiln against ONNX Runtime on the same models, inputs and
// thread counts, in the same run. bench/run.sh is the usual way in; docs/benchmarks.md explains
// the method. For each model and thread count it alternates the engines in rounds (Kiln, ORT,
// Kiln, ORT, ...) so that both see the same machine state, then prints latency, GFLOP/s against
// the measured FMA peak, the outputs' difference, and session creation time and peak RSS.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kilnBench, kilnOutputs } from './kiln.mjs';
import { ensureModels } from './models.mjs';
import { kilnInputArgs, makeInputs } from './inputs.mjs';
import { createSession, ortFeeds, ortVersion, timeRuns } from './ort_peer.mjs';
import { count, summarize } from './stats.mjs';
import { fixed, printReport, sci } from './table.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const MODELS = ['resnet50', 'mobilenetv2', 'resnet18', 'bert-base', 'unet'];
const CPU_LEVELS = ['scalar', 'avx2', 'avx512'];
const USAGE = `usage: bench/run.sh [options]   (or: node bench/compare.mjs [options])
  --models LIST      comma-separated, from ${MODELS.join(',')} (default: all)
  --threads LIST     thread counts (default: 1,2)
  --rounds N         Kiln/ORT alternations per model and thread count (default 5; --quick 2)
  --runs K           timed runs per engine per round (default 10; --quick 3)
  --warmup N         untimed runs before each round's timing (default 2; --quick 3)
  --quick            the small settings above, for a first look in a few minutes
  --cpu-levels       also check Kiln's outputs at each of ${CPU_LEVELS.join(', ')}
  --ort-no-spin      turn ORT's intra-op spinning off (default: ORT's default, spinning on)
  --kiln-spin-us N   let Kiln's idle threads poll N microseconds before sleeping (default 0: Kiln's default)
  --int8 MODE        quantize each model with \`kiln quantize\` first (static: QDQ calibrated on 8 random
                     inputs; dynamic) and run the INT8 model in both engines (docs/quantization.md)
  --markdown FILE    also write the tables as Markdown (for docs/benchmarks.md)
  --build DIR        Kiln's build folder (default: build)`;

function parseOptions() {
  const { values: v } = parseArgs({
    options: {
      models: { type: 'string' }, threads: { type: 'string' }, rounds: { type: 'string' },
      runs: { type: 'string' }, warmup: { type: 'string' }, quick: { type: 'boolean' },
      'cpu-levels': { type: 'boolean' }, 'ort-no-spin': { type: 'boolean' }, 'kiln-spin-us': { type: 'string' },
      markdown: { type: 'string' }, int8: { type: 'string' },
      build: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const models = v.models ? v.models.split(',') : MODELS;
  const unknown = models.filter((m) => !MODELS.includes(m));
  if (unknown.length) throw new Error(`unknown model(s) ${unknown.join(', ')}; known: ${MODELS.join(', ')}`);
  const build = resolve(v.build ?? join(ROOT, 'build'));
  if (v.int8 && !['static', 'dynamic'].includes(v.int8)) throw new Error(`--int8 takes static or dynamic, not ${v.int8}`);
  return {
    int8: v.int8,
    models,
    threads: (v.threads ?? '1,2').split(',').map((t) => count('threads', t, 1)),
    rounds: count('rounds', v.rounds, v.quick ? 2 : 5),
    runs: count('runs', v.runs, v.quick ? 3 : 10),
    warmup: count('warmup', v.warmup, v.quick ? 3 : 2, 0),
    cpuLevels: v['cpu-levels'] ?? false,
    ortNoSpin: v['ort-no-spin'] ?? false,
    kilnSpinUs: count('kiln-spin-us', v['kiln-spin-us'], 0, 0),
    markdown: v.markdown,
    kiln: join(build, 'kiln'),
    fmaPeak: join(build, 'bench', 'fma_peak'),
    modelDir: join(build, 'bench-models'),
  };
}

const log = (text) => process.stderr.write(`${text}\n`);

const kCalibrationSamples = 8;

// The model quantized by Kiln's quantizer (static: calibrated on random inputs of other seeds
// than the measured ones), written beside the float model once.
function quantizedModel(opts, name, info, tmp) {
  const model = join(opts.modelDir, `${name}.int8-${opts.int8}.onnx`);
  if (existsSync(model)) return model;
  const args = ['quantize', join(opts.modelDir, `${name}.onnx`), '-o', model];
  if (opts.int8 === 'dynamic') {
    args.push('--dynamic');
  } else {
    const folder = mkdtempSync(join(tmp, `${name}-calibration-`));
    for (let sample = 0; sample < kCalibrationSamples; ++sample)
      for (const input of makeInputs(info, tmp, 100 + sample))
        renameSync(input.file, join(folder, `${input.name}_${sample}.npy`));
    args.push('--calib', folder);
  }
  log(`${name}: kiln ${args.join(' ')}`);
  execFileSync(opts.kiln, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return model;
}

// GFLOP/s peak per thread count: the faster of the zmm and ymm measurements.
function measurePeak(opts) {
  const measured = JSON.parse(execFileSync(opts.fmaPeak, opts.threads.map(String), { encoding: 'utf8' }));
  return Object.fromEntries(opts.threads.map((t) => [t, Math.max(measured.avx512?.[t] ?? 0, measured.avx2?.[t] ?? 0)]));
}

// The best of two measurements (before and after the models), as other load on the machine can
// only lower a measured peak; warns when the peak does not scale with threads.
function bestPeak(opts, a, b) {
  const peak = Object.fromEntries(opts.threads.map((t) => [t, Math.max(a[t], b[t])]));
  const [one, most] = [Math.min(...opts.threads), Math.max(...opts.threads)];
  if (most > one && peak[most] < 0.8 * peak[one] * (most / one))
    log(`warning: the FMA peak on ${most} threads is only ${(peak[most] / peak[one]).toFixed(2)}x that on ${one}: ` +
        'was something else running? Every number here shared the machine with it.');
  return peak;
}

// Largest |Kiln - ORT| over all outputs, absolute and relative to ORT's largest |value|.
function difference(kilnOut, ortOut) {
  let maxAbs = 0;
  let scale = 0;
  for (const [name, tensor] of Object.entries(ortOut)) {
    const mine = kilnOut[name];
    if (mine?.data.length !== tensor.data.length) throw new Error(`Kiln's output ${name} is missing or of another size`);
    for (let i = 0; i < tensor.data.length; ++i) {
      maxAbs = Math.max(maxAbs, Math.abs(mine.data[i] - tensor.data[i]));
      scale = Math.max(scale, Math.abs(tensor.data[i]));
    }
  }
  return { maxAbs, rel: scale ? maxAbs / scale : maxAbs };
}

async function accuracy(opts, model, inputs) {
  const session = await createSession(model, 1);
  const ortOut = await session.run(ortFeeds(inputs));
  await session.release();
  const levels = opts.cpuLevels ? CPU_LEVELS : [''];
  return levels.map((level) => {
    const name = level || 'default';
    try {
      return { level: name, ...difference(kilnOutputs(opts.kiln, model, kilnInputArgs(inputs), level), ortOut) };
    } catch (e) {  // e.g. a level this CPU lacks: say so in the table, go on with the rest
      const error = e.message.split('\n').find((l) => l.includes('error')) ?? e.message;
      return { level: name, maxAbs: NaN, rel: NaN, error };
    }
  });
}

// For a classifier (output [1, classes]) in an --int8 run: the share of kTop1Inputs random inputs
// (seeds other than the timed input's) on which Kiln's and ORT's argmax agree; null for other models.
const kTop1Inputs = 16;
async function top1Agreement(opts, model, info, dir) {
  const session = await createSession(model, 1);
  const argmax = (data) => data.reduce((best, v, i) => (v > data[best] ? i : best), 0);
  let agree = 0;
  try {
    for (let seed = 200; seed < 200 + kTop1Inputs; ++seed) {
      const inputs = makeInputs(info, dir, seed);
      const [name, tensor] = Object.entries(await session.run(ortFeeds(inputs)))[0];
      if (tensor.dims.length !== 2 || Number(tensor.dims[0]) !== 1) return null;
      agree += argmax(kilnOutputs(opts.kiln, model, kilnInputArgs(inputs))[name].data) === argmax(tensor.data) ? 1 : 0;
    }
  } finally {
    await session.release();
  }
  return agree / kTop1Inputs;
}

async function latency(opts, model, inputs, threads) {
  const session = await createSession(model, threads, opts.ortNoSpin);
  const feeds = ortFeeds(inputs);
  await timeRuns(session, feeds, opts.warmup);
  const kiln = [];
  const ort = [];
  const kilnArgs = ['--threads', String(threads), '--iterations', String(opts.runs), '--warmup', String(opts.warmup),
    '--spin-us', String(opts.kilnSpinUs), ...kilnInputArgs(inputs)];
  for (let round = 0; round < opts.rounds; ++round) {
    kiln.push(...kilnBench(opts.kiln, model, kilnArgs).latencies_ms);
    ort.push(...(await timeRuns(session, feeds, opts.runs)));
  }
  await session.release();
  return { kiln: summarize(kiln), ort: summarize(ort) };
}

// Session creation (median of 5) and peak RSS of a process that does only that, for one model.
function loadAndMemory(opts, model) {
  const ortLoad = (args) =>
    JSON.parse(execFileSync(process.execPath, [join(HERE, 'ort_load.mjs'), ...args], { encoding: 'utf8' }));
  const kiln = kilnBench(opts.kiln, model, ['--load-only', '--threads', '1']);
  return [
    { engine: 'Kiln', load_ms: kiln.load_ms, peak_rss_mb: kiln.peak_rss_mb },
    { engine: `ONNX Runtime ${ortVersion} (node)`, ...ortLoad([model]) },
    { engine: 'node + onnxruntime-node, no session (baseline)', ...ortLoad([]) },
  ];
}

// Peak RSS of one process that creates a session (1 thread) and runs it, for each engine: what a
// deployment holds. Kiln's is `kiln bench`'s peak_rss_mb; ORT's comes from bench/ort_rss.mjs.
const kRssRuns = 10;
function memoryDuringRuns(opts, model, inputs) {
  const kiln = kilnBench(opts.kiln, model, ['--threads', '1', '--iterations', String(kRssRuns), '--warmup', '1',
    ...kilnInputArgs(inputs)]);
  const ort = JSON.parse(execFileSync(process.execPath,
    [join(HERE, 'ort_rss.mjs'), model, String(kRssRuns), ...inputs.map(({ name, file }) => `${name}=${file}`)],
    { encoding: 'utf8' }));
  return { kiln: kiln.peak_rss_mb, ort: ort.peak_rss_mb };
}

const latencyColumns = [
  { title: 'model', value: (r) => r.model, left: true },
  { title: 'threads', value: (r) => String(r.threads) },
  { title: 'Kiln ms', value: (r) => fixed(r.kiln.median, 2) },
  { title: 'Kiln p90', value: (r) => fixed(r.kiln.p90, 2) },
  { title: 'ORT ms', value: (r) => fixed(r.ort.median, 2) },
  { title: 'ORT p90', value: (r) => fixed(r.ort.p90, 2) },
  { title: 'Kiln/ORT', value: (r) => fixed(r.kiln.median / r.ort.median, 2) },
  { title: 'Kiln GFLOP/s', value: (r) => fixed(r.flops / r.kiln.median / 1e6, 1) },
  { title: 'Kiln %peak', value: (r) => fixed((100 * r.flops) / r.kiln.median / 1e6 / r.peak, 1) },
  { title: 'ORT GFLOP/s', value: (r) => fixed(r.flops / r.ort.median / 1e6, 1) },
  { title: 'ORT %peak', value: (r) => fixed((100 * r.flops) / r.ort.median / 1e6 / r.peak, 1) },
  { title: 'max abs diff', value: (r) => sci(r.check.maxAbs) },
  { title: 'rel diff', value: (r) => sci(r.check.rel) },
];
const top1Column = {
  title: `top-1 agree (${kTop1Inputs} inputs)`,
  value: (r) => (r.top1 == null ? '-' : `${fixed(100 * r.top1, 0)}%`),
};
const accuracyColumns = [
  { title: 'model', value: (r) => r.model, left: true },
  { title: 'Kiln CPU level', value: (r) => r.level, left: true },
  { title: 'max abs diff', value: (r) => sci(r.maxAbs) },
  { title: 'rel diff', value: (r) => (r.error ? r.error : sci(r.rel)) },
];
const rssColumns = [
  { title: 'model', value: (r) => r.model, left: true },
  { title: 'Kiln MB', value: (r) => fixed(r.kiln, 1) },
  { title: 'ORT MB', value: (r) => fixed(r.ort, 1) },
  { title: 'Kiln/ORT', value: (r) => fixed(r.kiln / r.ort, 2) },
];
const loadColumns = [
  { title: 'process', value: (r) => r.engine, left: true },
  { title: 'session creation ms', value: (r) => fixed(r.load_ms, 1) },
  { title: 'peak RSS MB', value: (r) => fixed(r.peak_rss_mb, 1) },
];

function header(opts, peak) {
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim();
  const ort = `ONNX Runtime ${ortVersion} (onnxruntime-node, CPU EP${opts.ortNoSpin ? ', spinning off' : ''})`;
  const peaks = opts.threads.map((t) => `${t} thread${t > 1 ? 's' : ''} ${fixed(peak[t], 1)}`).join(', ');
  return [
    `Kiln ${git || '(unknown commit)'}${opts.kilnSpinUs ? ` (threads spin ${opts.kilnSpinUs} us)` : ''} against ${ort}, ${new Date().toISOString().slice(0, 10)}`,
    `${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} logical CPUs; FP32 FMA peak GFLOP/s: ${peaks}`,
    `batch 1, ${opts.rounds} rounds x ${opts.runs} runs per engine, alternating, ${opts.warmup} warm-up runs first`,
    ...(opts.int8 ? [`INT8: each model quantized by \`kiln quantize\` (${opts.int8}); both engines run that file`] : []),
  ];
}

// Prints the tables, and writes them as Markdown with --markdown.
function report(opts, peak, { rows, checks, memory, loads, loadModel }) {
  const sections = [['Latency', opts.int8 ? [...latencyColumns, top1Column] : latencyColumns, rows]];
  if (opts.cpuLevels) sections.push(['Outputs at each Kiln CPU level, against ORT', accuracyColumns, checks]);
  sections.push([`Peak RSS during runs (creation and ${kRssRuns} runs, 1 thread; ORT's includes node's own, see the baseline below)`,
    rssColumns, memory]);
  sections.push([`Session creation and peak RSS (${loadModel}, 1 thread)`, loadColumns, loads]);
  printReport(header(opts, peak), sections, opts.markdown);
}

async function main() {
  const opts = parseOptions();
  for (const file of [opts.kiln, opts.fmaPeak])
    if (!existsSync(file)) throw new Error(`${file} not found: build first (scripts/build.sh; KILN_BUILD_BENCH=ON)`);
  ensureModels(opts.modelDir, opts.models, log);
  log('measuring the FMA peak');
  const peakBefore = measurePeak(opts);
  const tmp = mkdtempSync(join(tmpdir(), 'kiln-compare-'));
  const rows = [];
  const checks = [];
  const memory = [];
  try {
    for (const name of opts.models) {
      const info = JSON.parse(readFileSync(join(opts.modelDir, `${name}.json`), 'utf8'));
      const model = opts.int8 ? quantizedModel(opts, name, info, tmp) : join(opts.modelDir, `${name}.onnx`);
      const inputs = makeInputs(info, tmp);
      log(`${name}: checking outputs`);
      const modelChecks = (await accuracy(opts, model, inputs)).map((c) => ({ model: name, ...c }));
      checks.push(...modelChecks);
      const top1 = opts.int8 ? await top1Agreement(opts, model, info, tmp) : null;
      for (const threads of opts.threads) {
        log(`${name}: ${threads} thread(s), ${opts.rounds} rounds`);
        const lat = await latency(opts, model, inputs, threads);
        rows.push({ model: name, threads, ...lat, flops: info.flops, check: modelChecks[0], top1 });
      }
      log(`${name}: peak RSS during runs`);
      memory.push({ model: name, ...memoryDuringRuns(opts, model, inputs) });
    }
    const loadModel = opts.models.includes('resnet50') ? 'resnet50' : opts.models[0];
    log(`${loadModel}: session creation and peak RSS`);
    const loads = loadAndMemory(opts, join(opts.modelDir, `${loadModel}.onnx`));
    log('measuring the FMA peak again');
    const peak = bestPeak(opts, peakBefore, measurePeak(opts));
    for (const row of rows) row.peak = peak[row.threads];
    report(opts, peak, { rows, checks, memory, loads, loadModel });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`compare: ${e.message}`);
  process.exit(1);
});
