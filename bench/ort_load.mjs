// node ort_load.mjs [MODEL [REPEATS]]: creates an ONNX Runtime session for MODEL (1 thread)
// REPEATS times (default 5) and prints one JSON line {"load_ms": median, "peak_rss_mb": ...}, the
// process's peak RSS. Without MODEL it only loads onnxruntime-node: the baseline RSS that a
// session's RSS is to be read against. Run as its own process so that peak RSS is this alone.
import { createSession } from './ort_peer.mjs';
import { peakRssMb } from './rss.mjs';
import { summarize } from './stats.mjs';

const [model, repeats = '5'] = process.argv.slice(2);
const loads = [];
if (model) {
  for (let i = 0; i < Number(repeats); ++i) {
    const start = performance.now();
    const session = await createSession(model, 1);
    loads.push(performance.now() - start);
    await session.release();
  }
}
console.log(JSON.stringify({ load_ms: model ? summarize(loads).median : null, peak_rss_mb: peakRssMb() }));
