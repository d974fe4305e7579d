// node bench/llm/llama_cpp_bench.mjs MODEL.gguf [-p 512] [-n 128] [-t 1,2] [-r 3] [--info]:
// llama.cpp's prompt-processing and generation tokens/s, measured as `kiln bench-llm` measures
// Kiln's (and as llama-bench does), printed as the same JSON lines with engine "llama.cpp".
//
// llama.cpp is node-llama-cpp's prebuilt CPU build (GGML_BACKEND_DL with one libggml-cpu-<arch>.so
// per x86 level; ggml loads the best this CPU runs, zen4 on Zen 4). The timing calls the addon's
// context directly, one llama_decode per step, under none of node-llama-cpp's batching queue or
// thread splitter:
//   ppN: N random tokens as one batch (positions 0..N-1, logits for the last only) into a fresh
//        sequence; the context's batch and micro-batch are N, so it is one llama_decode;
//   tgN: N decode steps of one random token each from an empty sequence, logits each step.
// Sampling is left out on both sides. Each repetition clears the sequence first; one short
// untimed run of each test warms the weights and buffers, as kiln bench-llm's does.
// The thread count is set with llama_set_n_threads and read back; the CPU time the process
// spent during the timed runs, over their wall time, is printed as cpu_per_wall (close to the
// thread count when llama.cpp really ran that many threads and the machine was not crowded).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { summarize } from '../stats.mjs';

const USAGE = 'usage: node bench/llm/llama_cpp_bench.mjs MODEL.gguf [-p 512] [-n 128] [-t 1,2] [-r 3] [--info]';

function flashAttentionOption(text) {
  const values = { auto: 'auto', on: true, off: false };
  if (!(text in values)) throw new Error(`--flash-attn must be auto, on or off, got '${text}'`);
  return values[text];
}

function parseOptions() {
  const { values: v, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'prompt-tokens': { type: 'string', short: 'p' }, 'gen-tokens': { type: 'string', short: 'n' },
      threads: { type: 'string', short: 't' }, reps: { type: 'string', short: 'r' },
      'flash-attn': { type: 'string' }, info: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help || positionals.length !== 1) {
    console.log(USAGE);
    process.exit(v.help ? 0 : 2);
  }
  const count = (name, text, fallback, min) => {
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${text}'`);
    return n;
  };
  return {
    model: positionals[0],
    promptTokens: count('prompt-tokens', v['prompt-tokens'], 512, 0),
    genTokens: count('gen-tokens', v['gen-tokens'], 128, 0),
    threads: (v.threads ?? '1').split(',').map((t) => count('threads', t, 1, 1)),
    reps: count('reps', v.reps, 3, 1),
    flashAttention: flashAttentionOption(v['flash-attn'] ?? 'auto'),
    info: v.info ?? false,
  };
}

// Deterministic random tokens from the whole vocabulary (a 32-bit LCG), as kiln bench-llm draws its.
function tokenSource(vocab, seed = 1234) {
  let state = seed >>> 0;
  return (n) => Uint32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % vocab;
  });
}

function vocabularySize(model) {
  const { metadata } = model.fileInfo;
  const size = metadata[metadata.general.architecture]?.vocab_size ?? metadata.tokenizer?.ggml?.tokens?.length;
  if (!Number.isInteger(size) || size < 1) throw new Error(`${model.filename}: no usable vocabulary size`);
  return size;
}

// The libggml-cpu-<variant>.so files this process mapped: which of the prebuilt's CPU builds ggml chose.
function loadedCpuBackends() {
  const maps = readFileSync('/proc/self/maps', 'utf8');
  return [...new Set(maps.match(/[^ /]*libggml-cpu[^ /]*\.so/g) ?? [])];
}

const SEQUENCE = 0;

// With --info: llama.cpp's lines that say which CPU backend it loaded and how the context runs.
const INFO_LINES = /load_backend|CPU_|system_info|n_ctx|n_batch|n_ubatch|flash.?att|n_threads|type +(f16|q8_0|q4_0|f32)|file type|CPU_Mapped|warn/i;
function infoLogger(level, message) {
  if (level === LlamaLogLevel.warn || level === LlamaLogLevel.error || INFO_LINES.test(message))
    process.stderr.write(`llama.cpp: ${message.trimEnd()}\n`);
}

// One llama_decode of `tokens` at positions from `position`, logits for the last token only.
async function decode(ctx, tokens, position) {
  ctx.initBatch(tokens.length);
  ctx.addToBatch(SEQUENCE, position, tokens, Uint32Array.of(tokens.length - 1));
  await ctx.decodeBatch();
}

// Seconds for one repetition of a test on an emptied sequence.
async function runOnce(ctx, test, nextTokens) {
  ctx.removeTokenCellsFromSequence(SEQUENCE, 0, -1);
  const start = performance.now();
  if (test.prompt) {
    await decode(ctx, nextTokens(test.tokens), 0);
  } else {
    for (let step = 0; step < test.tokens; ++step) await decode(ctx, nextTokens(1), step);
  }
  return (performance.now() - start) / 1000;
}

async function main() {
  const opts = parseOptions();
  const llama = await getLlama({
    gpu: false, build: 'never', usePrebuiltBinaries: true, progressLogs: false,
    logLevel: opts.info ? LlamaLogLevel.info : LlamaLogLevel.warn, logger: opts.info ? infoLogger : undefined,
    maxThreads: Math.max(...opts.threads),
  });
  const loadStart = performance.now();
  const model = await llama.loadModel({ modelPath: opts.model, gpuLayers: 0, useMmap: true });
  const loadMs = performance.now() - loadStart;
  const batch = Math.max(opts.promptTokens, 1);
  const context = await model.createContext({
    sequences: 1, contextSize: Math.max(opts.promptTokens, opts.genTokens) + 16, batchSize: batch,
    flashAttention: opts.flashAttention, threads: Math.max(...opts.threads),
  });
  const ctx = context._ctx;  // the addon's context: llama_decode without node-llama-cpp's queue
  if (opts.info) {
    const release = llama.llamaCppRelease;
    process.stderr.write(`llama.cpp ${release.repo} ${release.release} (${llama.buildType}), CPU backend ` +
      `${loadedCpuBackends().join(', ') || '(none found in /proc/self/maps)'}\nsystem info: ${llama.systemInfo}\n`);
  }
  const tests = [];
  if (opts.promptTokens > 0) tests.push({ name: `pp${opts.promptTokens}`, tokens: opts.promptTokens, prompt: true });
  if (opts.genTokens > 0) tests.push({ name: `tg${opts.genTokens}`, tokens: opts.genTokens, prompt: false });
  const nextTokens = tokenSource(vocabularySize(model));
  for (const threads of opts.threads) {
    ctx.setThreads(threads);
    if (ctx.getThreads() !== threads) throw new Error(`llama.cpp runs ${ctx.getThreads()} threads, not the ${threads} asked for`);
    for (const test of tests) {
      await runOnce(ctx, { ...test, tokens: Math.min(test.tokens, 16) }, nextTokens);
      const rates = [];
      const cpuStart = process.cpuUsage();
      let wall = 0;
      for (let r = 0; r < opts.reps; ++r) {
        const seconds = await runOnce(ctx, test, nextTokens);
        wall += seconds;
        rates.push(test.tokens / seconds);
      }
      const cpu = process.cpuUsage(cpuStart);
      const s = summarize(rates);
      console.log(JSON.stringify({
        engine: 'llama.cpp', model: opts.model, test: test.name, threads, tokens_per_s: s.median,
        min_tokens_per_s: s.min, max_tokens_per_s: s.max, reps: opts.reps,
        cpu_per_wall: (cpu.user + cpu.system) / 1e6 / wall, load_ms: loadMs,
      }));
    }
  }
  await context.dispose();
  await model.dispose();
  await llama.dispose();
}

main().catch((e) => {
  console.error(`llama_cpp_bench: ${e.message}`);
  process.exit(1);
});
