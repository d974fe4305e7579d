// ONNX Runtime's predictions for a Fashion-MNIST model, to compare with Kiln's on the same images.
//
//   /usr/bin/python3 models/fashion_mnist/write_samples.py --out /tmp/test --split test --count 10000 --batched
//   node models/fashion_mnist/ort_predict.mjs models/fashion_mnist/cnn.onnx /tmp/test/image.npy /tmp/ort_cnn.npy
//   /usr/bin/python3 models/fashion_mnist/evaluate.py models/fashion_mnist/cnn.onnx --compare-predictions /tmp/ort_cnn.npy
//
// Reads IMAGE.npy float32 [N,1,28,28], runs it through onnxruntime-node's CPU provider in batches
// with one intra-op thread (bench/ort_peer.mjs's session options), and writes the argmax of
// `logits` per image to OUT.npy as int64 [N]. onnxruntime-node is bench/'s dependency: it resolves
// from bench/node_modules (`npm ci` in bench/), which is why ORT comes through bench/ort_peer.mjs.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readNpy, writeNpy } from '../../bench/npy.mjs';

const USAGE = 'usage: node ort_predict.mjs MODEL.onnx IMAGE.npy OUT.npy [--batch N]';

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { batch: { type: 'string', default: '500' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(`${USAGE}\n  --batch N  images per run (default 500)`);
  process.exit(0);
}
if (positionals.length !== 3) fail(USAGE);
const [modelPath, imagePath, outPath] = positionals;
const batch = Number(values.batch);
if (!Number.isInteger(batch) || batch < 1) fail(`--batch must be a positive integer, got ${values.batch}`);
for (const path of [modelPath, imagePath]) if (!existsSync(path)) fail(`${path} does not exist`);

// A dynamic import, so that a missing bench/node_modules gets a message saying what to run.
let ortPeer;
try {
  ortPeer = await import('../../bench/ort_peer.mjs');
} catch (error) {
  fail(`cannot load onnxruntime-node through bench/ort_peer.mjs (${error.message}); run \`npm ci\` in bench/`);
}

const images = readNpy(imagePath);
const [count, ...pixelShape] = images.shape;
if (images.dtype !== 'float32' || pixelShape.join(',') !== '1,28,28') {
  fail(`${imagePath} must be float32 [N,1,28,28] (write_samples.py --batched), got ${images.dtype} [${images.shape}]`);
}

const session = await ortPeer.createSession(modelPath, 1);
const pixels = 28 * 28;
const predictions = new BigInt64Array(count);
for (let start = 0; start < count; start += batch) {
  const rows = Math.min(batch, count - start);
  const data = images.data.subarray(start * pixels, (start + rows) * pixels);
  const { logits } = await session.run(ortPeer.ortFeeds([{ name: 'image', shape: [rows, 1, 28, 28], data }]));
  const classes = logits.dims[1];
  for (let row = 0; row < rows; ++row) {
    // First maximum on ties, as numpy's argmax.
    let best = 0;
    for (let c = 1; c < classes; ++c) if (logits.data[row * classes + c] > logits.data[row * classes + best]) best = c;
    predictions[start + row] = BigInt(best);
  }
}
writeNpy(outPath, { dtype: 'int64', shape: [count], data: predictions });
console.log(`${modelPath}: ORT ${ortPeer.ortVersion} predictions for ${count} images written to ${outPath}`);
