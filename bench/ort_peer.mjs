// ONNX Runtime, the peer: onnxruntime-node with the CPU execution provider.
//
// Session options: intraOpNumThreads = T (ORT's pool of T includes the calling thread, as Kiln's
// `threads` does), interOpNumThreads 1, graphOptimizationLevel 'all', executionMode 'sequential'.
// The last three are ORT's defaults, set only to be explicit. Intra-op spinning is left on, ORT's
// default (its idle workers busy-wait between ops; Kiln's do not spin), so that ORT runs as
// shipped; `noSpin` sets the session config key session.intra_op.allow_spinning = "0".
import ort from 'onnxruntime-node';

export const ortVersion = ort.env.versions.node;

export function ortOptions(threads, noSpin = false) {
  const options = {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
  if (noSpin) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
  return options;
}

export function createSession(modelPath, threads, noSpin) {
  return ort.InferenceSession.create(modelPath, ortOptions(threads, noSpin));
}

// `inputs`: [{name, shape, data: Float32Array}] -> ORT feeds.
export function ortFeeds(inputs) {
  return Object.fromEntries(inputs.map(({ name, shape, data }) => [name, new ort.Tensor('float32', data, shape)]));
}

// Runs `count` times; returns each run's latency in ms.
export async function timeRuns(session, feeds, count) {
  const latencies = [];
  for (let i = 0; i < count; ++i) {
    const start = performance.now();
    await session.run(feeds);
    latencies.push(performance.now() - start);
  }
  return latencies;
}
