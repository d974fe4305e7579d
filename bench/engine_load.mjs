// node bench/engine_load.mjs [options]: how fast a model loads from a Kiln engine file (`kiln
// build`) beside Kiln's own session creation from the ONNX file and ONNX Runtime's, in one run,
// alternating the three in rounds; the peak RSS of a process that loads and runs 10 times; and
// with --llm, the TinyLlama-shaped int4 model loaded from its .kiln beside from its GGUF file.
// bench/engine_load.sh is the usual way in; docs/engine.md has the method and results.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeInputs, kilnInputArgs } from './inputs.mjs';
import { kilnBench } from './kiln.mjs';
import { ensureModels as ensureLlmModels, ggufFile } from './llm/models.mjs';
import { ensureModels } from './models.mjs';
import { ortVersion } from './ort_peer.mjs';
import { count, summarize } from './stats.mjs';
import { fixed, printReport } from './table.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const MODELS = ['resnet50', 'bert-base', 'mobilenetv2', 'resnet18'];
const USAGE = `usage: bench/engine_load.sh [options]   (or: node bench/engine_load.mjs [options])
  --models LIST      comma-separated, from ${MODELS.join(',')} (default: resnet50,bert-base)
  --rounds N         alternations of the three loads per model (default 5)
  --loads K          session creations per process, of which the median counts (default 3)
  --llm              also the TinyLlama-shaped int4 model: .kiln against GGUF (bench/llm/make_model.py makes it)
  --llm-models DIR   where the LLM models are (default /tmp/kiln-llm-bench)
  --markdown FILE    also write the tables as Markdown (for docs/engine.md)
  --build DIR        Kiln's build folder (default: build)`;

const log = (text) => process.stderr.write(`${text}\n`);

function parseOptions() {
  const { values: v } = parseArgs({
    options: {
      models: { type: 'string' }, rounds: { type: 'string' }, loads: { type: 'string' }, llm: { type: 'boolean' },
      'llm-models': { type: 'string' }, markdown: { type: 'string' }, build: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const models = (v.models ?? 'resnet50,bert-base').split(',');
  const unknown = models.filter((m) => !MODELS.includes(m));
  if (unknown.length) throw new Error(`unknown model(s) ${unknown.join(', ')}; known: ${MODELS.join(', ')}`);
  const build = resolve(v.build ?? join(ROOT, 'build'));
  return {
    models,
    rounds: count('rounds', v.rounds, 5),
    loads: count('loads', v.loads, 3),
    llm: v.llm ?? false,
    markdown: v.markdown,
    kiln: join(build, 'kiln'),
    modelDir: join(build, 'bench-models'),
    llmModels: { models: resolve(v['llm-models'] ?? '/tmp/kiln-llm-bench'), checkModels: join(build, 'bench', 'check_models') },
  };
}

const runKiln = (opts, args) => execFileSync(opts.kiln, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
const ortLoad = (args) =>
  JSON.parse(execFileSync(process.execPath, [join(HERE, 'ort_load.mjs'), ...args], { encoding: 'utf8' }));
const ortRss = (args) =>
  JSON.parse(execFileSync(process.execPath, [join(HERE, 'ort_rss.mjs'), ...args], { encoding: 'utf8' }));
const mb = (file) => statSync(file).size / 1e6;

// `kiln build`, timed as the command (a build is done once per model and CPU).
function buildEngine(opts, source, engine, extra = []) {
  const start = performance.now();
  runKiln(opts, ['build', source, '-o', engine, ...extra]);
  return performance.now() - start;
}

function onnxModel(opts, name, tmp) {
  const onnx = join(opts.modelDir, `${name}.onnx`);
  const engine = join(tmp, `${name}.kiln`);
  const buildMs = buildEngine(opts, onnx, engine);
  const loadArgs = ['--load-only', '-n', String(opts.loads), '--threads', '1'];
  const fromOnnx = [], fromEngine = [], ort = [];
  for (let round = 0; round < opts.rounds; ++round) {
    log(`${name}: round ${round + 1} of ${opts.rounds}`);
    fromOnnx.push(kilnBench(opts.kiln, onnx, loadArgs).load_ms);
    fromEngine.push(kilnBench(opts.kiln, engine, loadArgs).load_ms);
    ort.push(ortLoad([onnx, String(opts.loads)]).load_ms);
  }
  const inputs = makeInputs(JSON.parse(readFileSync(join(opts.modelDir, `${name}.json`), 'utf8')), tmp);
  const runArgs = ['--threads', '1', '--iterations', '10', '--warmup', '0', ...kilnInputArgs(inputs)];
  log(`${name}: peak RSS of creation and 10 runs`);
  return {
    load: { model: name, onnx: summarize(fromOnnx).median, engine: summarize(fromEngine).median, ort: summarize(ort).median,
            buildMs, onnxMb: mb(onnx), engineMb: mb(engine) },
    rss: { model: name, engine: kilnBench(opts.kiln, engine, runArgs).peak_rss_mb, onnx: kilnBench(opts.kiln, onnx, runArgs).peak_rss_mb,
           ort: ortRss([onnx, '10', ...inputs.map(({ name: input, file }) => `${input}=${file}`)]).peak_rss_mb },
  };
}

// `kiln bench-llm` loads the model, then prefills one token and decodes one: load_ms is the load.
function llmLoadMs(opts, model) {
  const line = runKiln(opts, ['bench-llm', model, '-p', '1', '-n', '1', '-r', '1', '-t', '1', '--json']).split('\n')[0];
  return JSON.parse(line).load_ms;
}

function llmModel(opts, tmp) {
  ensureLlmModels(opts.llmModels, log);
  const gguf = ggufFile(opts.llmModels, 'q4_0');
  const engine = join(tmp, 'tinyllama-q4_0.kiln');
  log('TinyLlama int4: building the engine');
  const buildMs = buildEngine(opts, gguf, engine);
  const fromGguf = [], fromEngine = [];
  for (let round = 0; round < opts.rounds; ++round) {
    log(`TinyLlama int4: round ${round + 1} of ${opts.rounds}`);
    fromGguf.push(llmLoadMs(opts, gguf));
    fromEngine.push(llmLoadMs(opts, engine));
  }
  return { model: 'TinyLlama-shaped, Q4_0 / int4 g32', gguf: summarize(fromGguf).median, engine: summarize(fromEngine).median,
           buildMs, ggufMb: mb(gguf), engineMb: mb(engine) };
}

const loadColumns = [
  { title: 'model', value: (r) => r.model, left: true },
  { title: 'ORT from .onnx ms', value: (r) => fixed(r.ort, 1) },
  { title: 'Kiln from .onnx ms', value: (r) => fixed(r.onnx, 1) },
  { title: 'Kiln from .kiln ms', value: (r) => fixed(r.engine, 1) },
  { title: '.kiln/ORT', value: (r) => fixed(r.engine / r.ort, 3) },
  { title: '.kiln/.onnx', value: (r) => fixed(r.engine / r.onnx, 3) },
  { title: 'kiln build ms', value: (r) => fixed(r.buildMs, 0) },
  { title: '.onnx MB', value: (r) => fixed(r.onnxMb, 1) },
  { title: '.kiln MB', value: (r) => fixed(r.engineMb, 1) },
];
const rssColumns = [
  { title: 'model', value: (r) => r.model, left: true },
  { title: 'ORT MB', value: (r) => fixed(r.ort, 1) },
  { title: 'Kiln from .onnx MB', value: (r) => fixed(r.onnx, 1) },
  { title: 'Kiln from .kiln MB', value: (r) => fixed(r.engine, 1) },
  { title: '.kiln/ORT', value: (r) => fixed(r.engine / r.ort, 2) },
];
const llmColumns = [
  { title: 'model', value: (r) => r.model, left: true },
  { title: 'from GGUF ms', value: (r) => fixed(r.gguf, 0) },
  { title: 'from .kiln ms', value: (r) => fixed(r.engine, 0) },
  { title: '.kiln/GGUF', value: (r) => fixed(r.engine / r.gguf, 3) },
  { title: 'kiln build ms', value: (r) => fixed(r.buildMs, 0) },
  { title: 'GGUF MB', value: (r) => fixed(r.ggufMb, 0) },
  { title: '.kiln MB', value: (r) => fixed(r.engineMb, 0) },
];

function report(opts, loads, rss, llm) {
  const git = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const lines = [
    `Kiln ${git} against ONNX Runtime ${ortVersion} (onnxruntime-node, CPU EP), ${new Date().toISOString().slice(0, 10)}`,
    `${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} logical CPUs; ${opts.rounds} alternating rounds, each the median of ${opts.loads} session creations in one process, 1 thread; files in the page cache`,
  ];
  const sections = [['Session creation', loadColumns, loads],
    ["Peak RSS of session creation and 10 runs (1 thread; ORT's process includes node's own, about 45 MB)", rssColumns, rss]];
  if (llm) sections.push(['LLM load (kiln bench-llm load_ms, 1 thread)', llmColumns, [llm]]);
  printReport(lines, sections, opts.markdown);
}

async function main() {
  const opts = parseOptions();
  ensureModels(opts.modelDir, opts.models, log);
  const tmp = mkdtempSync(join(tmpdir(), 'kiln-engine-load-'));
  try {
    const results = opts.models.map((name) => onnxModel(opts, name, tmp));
    const llm = opts.llm ? llmModel(opts, tmp) : null;
    report(opts, results.map((r) => r.load), results.map((r) => r.rss), llm);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`engine_load: ${e.message}`);
  process.exit(1);
});
