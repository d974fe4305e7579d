// The models the ONNX benchmarks run: exported by bench/export_models.py (PyTorch, random weights)
// into a folder, once.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

// Exports the models whose .onnx or .json is missing from `modelDir`.
export function ensureModels(modelDir, models, log) {
  const missing = models.filter((m) => !existsSync(join(modelDir, `${m}.onnx`)) || !existsSync(join(modelDir, `${m}.json`)));
  if (!missing.length) return;
  log(`exporting ${missing.join(', ')} into ${modelDir}`);
  const python = process.env.KILN_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(python, [join(HERE, 'export_models.py'), modelDir, ...missing], { stdio: 'inherit' });
  if (r.status === 77) throw new Error('exporting the models needs PyTorch and torchvision (scripts/setup.sh)');
  if (r.status !== 0) throw new Error(`bench/export_models.py failed (${r.status ?? r.error})`);
}
