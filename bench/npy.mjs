// NumPy .npy files (format 1.0/2.0/3.0, little-endian, C order) <-> {dtype, shape, data}, where data
// is a typed array. Enough for the benchmark's inputs and outputs; not a general reader.
import { readFileSync, writeFileSync } from 'node:fs';

const DTYPES = {
  '<f4': ['float32', Float32Array],
  '<f8': ['float64', Float64Array],
  '<i4': ['int32', Int32Array],
  '<i8': ['int64', BigInt64Array],
  '|u1': ['uint8', Uint8Array],
  '|i1': ['int8', Int8Array],
};
const MAGIC = '\x93NUMPY';

export function readNpy(path) {
  const bytes = readFileSync(path);
  if (bytes.toString('latin1', 0, 6) !== MAGIC) throw new Error(`${path}: not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (!DTYPES[descr]) throw new Error(`${path}: unsupported dtype ${descr}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: Fortran order is not supported`);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',').map((d) => d.trim()).filter((d) => d).map(Number);
  const [dtype, Type] = DTYPES[descr];
  const start = headerStart + headerLength;
  // Copied out, so that the typed array is aligned whatever the header length.
  const data = new Type(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
  return { dtype, shape, data };
}

export function writeNpy(path, { dtype, shape, data }) {
  const descr = Object.keys(DTYPES).find((k) => DTYPES[k][0] === dtype);
  if (!descr) throw new Error(`writeNpy: unsupported dtype ${dtype}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';  // pads magic + header to 64 bytes
  const prefix = Buffer.alloc(10);
  prefix.write(MAGIC, 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}
