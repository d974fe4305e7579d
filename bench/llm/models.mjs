// The TinyLlama-shaped models the LLM benchmarks run: made by bench/llm/make_model.py (random
// weights, one seed) into a folder as a Hugging Face directory and GGUF files of each format.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FORMATS } from './formats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

export const hfDir = (opts) => join(opts.models, 'hf');
export const ggufFile = (opts, format) => join(opts.models, `model-${format}.gguf`);

// Makes the models in opts.models when any file is missing (make_model.py writes all at once),
// then checks them with Kiln's GGUF reader (opts.checkModels, bench/check_models).
export function ensureModels(opts, log) {
  const files = [join(hfDir(opts), 'config.json'), join(hfDir(opts), 'model.safetensors'),
    ...Object.keys(FORMATS).map((f) => ggufFile(opts, f))];
  if (files.every(existsSync)) return;
  log(`making the models in ${opts.models} (a few minutes)`);
  const python = process.env.KILN_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(python, [join(HERE, 'make_model.py'), opts.models], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bench/llm/make_model.py failed (${r.status ?? r.error})`);
  log('checking that the GGUF files hold the HF weights (bench/check_models)');
  const check = spawnSync(opts.checkModels, [opts.models], { stdio: 'inherit' });
  if (check.status !== 0) throw new Error(`bench/check_models failed (${check.status ?? check.error}): the models are not the same`);
}
