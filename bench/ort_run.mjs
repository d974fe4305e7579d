// node bench/ort_run.mjs MODEL.onnx OUT_DIR NAME=FILE.npy ...: runs MODEL once with onnxruntime-node
// (one intra-op thread) on the given .npy inputs and writes each output to OUT_DIR/<output>.npy,
// for tests that compare Kiln's outputs with ONNX Runtime's on the same file
// (python/tests/test_ort_agreement.py). A '/' in an output's name (exporters write '/layer/Conv')
// becomes '_' in its file's.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy, writeNpy } from './npy.mjs';
import { createSession, ortFeeds } from './ort_peer.mjs';

const [model, outDir, ...inputArgs] = process.argv.slice(2);
if (!model || !outDir || !inputArgs.length) {
  console.error('usage: node bench/ort_run.mjs MODEL.onnx OUT_DIR NAME=FILE.npy ...');
  process.exit(1);
}
const inputs = inputArgs.map((arg) => {
  const at = arg.indexOf('=');
  if (at < 1) throw new Error(`expected NAME=FILE.npy, got ${arg}`);
  return { name: arg.slice(0, at), ...readNpy(arg.slice(at + 1)) };
});
const session = await createSession(model, 1);
const outputs = await session.run(ortFeeds(inputs));
mkdirSync(outDir, { recursive: true });
for (const [name, tensor] of Object.entries(outputs))
  writeNpy(join(outDir, `${name.replaceAll('/', '_')}.npy`), { dtype: tensor.type, shape: tensor.dims.map(Number), data: tensor.data });
await session.release();
