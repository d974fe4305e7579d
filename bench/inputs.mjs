// The inputs both engines get: uniform in [-1, 1) from a seeded generator, written to .npy files
// so that `kiln bench` and `kiln run` read exactly the values ORT is fed.
import { join } from 'node:path';
import { writeNpy } from './npy.mjs';

// mulberry32: small, seedable, good enough for benchmark inputs.
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// `info` is the model's JSON from export_models.py. Returns [{name, shape, data, file}].
export function makeInputs(info, dir, seed = 1) {
  const random = generator(seed);
  return info.inputs.map(({ name, shape, dtype }) => {
    if (dtype !== 'float32') throw new Error(`${info.name}: input ${name} is ${dtype}; only float32 inputs are made`);
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; ++i) data[i] = 2 * random() - 1;
    const file = join(dir, `${info.name}.${name}.npy`);
    writeNpy(file, { dtype, shape, data });
    return { name, shape, data, file };
  });
}

// The `--input NAME=FILE.npy` arguments for kiln.
export const kilnInputArgs = (inputs) => inputs.flatMap(({ name, file }) => ['--input', `${name}=${file}`]);
