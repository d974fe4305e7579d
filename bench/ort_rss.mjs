// node ort_rss.mjs MODEL RUNS NAME=FILE.npy ...: creates one ONNX Runtime session for MODEL (1
// thread), runs it RUNS times on the given inputs and prints one JSON line {"peak_rss_mb": ...},
// the process's peak RSS over creation and runs. Run as its own process so that the peak is this
// alone (bench/compare.mjs's "Peak RSS during runs" table; `kiln bench` measures Kiln's the same way).
import { createSession, ortFeeds, timeRuns } from './ort_peer.mjs';
import { readNpy } from './npy.mjs';
import { peakRssMb } from './rss.mjs';

const [model, runs, ...specs] = process.argv.slice(2);
const inputs = specs.map((spec) => {
  const [name, file] = spec.split('=');
  return { name, ...readNpy(file) };
});
const session = await createSession(model, 1);
await timeRuns(session, ortFeeds(inputs), Number(runs));
console.log(JSON.stringify({ peak_rss_mb: peakRssMb() }));
