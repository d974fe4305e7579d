// The weight formats the LLM benchmark pairs: llama.cpp's GGUF type beside the `kiln bench-llm
// --quant` that quantizes the same f16 weights the closest way, and what each stores per weight.
//   F16:  both read the f16 weights as they are.
//   Q8_0: llama.cpp int8 in blocks of 32 with an f16 scale (34 bytes / 32 weights); Kiln int8 in
//         groups of 32 with an f16 scale too (34 bytes / 32), the very values of Q8_0.
//   Q4_0: llama.cpp 4-bit in blocks of 32 with an f16 scale (18 bytes / 32); Kiln int4 in groups
//         of 32 with an f16 scale (18 bytes / 32), the very values of Q4_0.
// Bytes per weight of a matrix with `cols` inputs, per engine.
export const FORMATS = {
  f16: { label: 'F16 / f16', kilnQuant: 'none', bytes: { llama: () => 2, kiln: () => 2 } },
  q8_0: { label: 'Q8_0 / int8 g32', kilnQuant: 'int8', bytes: { llama: () => 34 / 32, kiln: () => 34 / 32 } },
  q4_0: { label: 'Q4_0 / int4 g32', kilnQuant: 'int4', bytes: { llama: () => 18 / 32, kiln: () => 18 / 32 } },
};

// Weight bytes one generated token reads: every layer's projections and the output head, each
// once (matrix-vector products). The embedding (one row per token), the norms and the KV cache
// (at most 128 positions here, under 1% of the weights) are left out.
export function weightBytesPerToken(config, format, engine) {
  const { hidden_size: d, intermediate_size: f, num_attention_heads: h, num_key_value_heads: kv } = config;
  const hd = config.head_dim ?? d / h;
  const layer = [[h * hd, d], [kv * hd, d], [kv * hd, d], [d, h * hd], [f, d], [f, d], [d, f]];
  const bytes = FORMATS[format].bytes[engine];
  const matrix = ([rows, cols]) => rows * cols * bytes(cols);
  return config.num_hidden_layers * layer.reduce((sum, m) => sum + matrix(m), 0) + matrix([config.vocab_size, d]);
}
