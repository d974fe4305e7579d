// The GGUF reader and writer: the byte layout as the specification gives it, round trips of every
// tensor type and metadata type, Q8_0/Q4_0 blocks against values computed by hand from their
// definition, each malformed form with the error it must give, and random mutations of a valid
// file that may fail only with kiln::Error (run under ASan and UBSan too).
#include "llm/gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>

#include "core/mapped_file.h"
#include "error_of.h"
#include "random_tensor.h"
#include "llm/ggml_blocks.h"

namespace kiln::llm {
namespace {

// GGUF bytes written field by field, little-endian.
class Bytes {
 public:
  template <class T>
  Bytes& put(T value) {
    s.append(reinterpret_cast<const char*>(&value), sizeof value);
    return *this;
  }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& str(const std::string& v) {
    u64(v.size());
    s += v;
    return *this;
  }
  Bytes& raw(const std::string& v) {
    s += v;
    return *this;
  }
  Bytes& header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) { return raw("GGUF").u32(version).u64(tensors).u64(kvs); }
  Bytes& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
  // ne: GGUF's dims, fastest first.
  Bytes& tensor(const std::string& name, const std::vector<uint64_t>& ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) u64(d);
    return u32(type).u64(offset);
  }
  Bytes& pad(size_t alignment) { return raw(std::string((alignment - s.size() % alignment) % alignment, '\0')); }
  Bytes& zeros(size_t n) { return raw(std::string(n, '\0')); }

  std::string s;
};

GgufFile parse_bytes(const std::string& bytes) {
  auto owner = std::make_shared<std::string>(bytes);
  return GgufFile::parse(owner, reinterpret_cast<const std::byte*>(owner->data()), owner->size(), "test.gguf");
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("kiln_gguf_" + name)).string();
}

std::string file_contents(const std::string& path) {
  const auto mapped = MappedFile::open(path);
  return std::string(reinterpret_cast<const char*>(mapped->data()), mapped->size());
}

using testing::float_values;
using testing::random_tensor;

TEST(Gguf, ReadsTheSpecificationsLayoutWithShapesReversed) {
  // GGUF dims [4, 3]: rows of 4 (ne[0] varies fastest), 3 of them: Kiln shape [3, 4].
  Bytes b;
  b.header(2, 2).kv_u32("llama.block_count", 22).str("general.name").u32(8).str("tiny");
  b.tensor("w", {4, 3}, 0, 0).tensor("v", {2}, 0, 64).pad(32);
  for (int i = 0; i < 12; ++i) b.put(static_cast<float>(i));
  b.zeros(16).put(1.5f).put(-2.f);
  const GgufFile file = parse_bytes(b.s);
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.alignment(), 32u);
  EXPECT_EQ(file.metadata().get_uint("llama.block_count"), 22u);
  EXPECT_EQ(file.metadata().get_string("general.name"), "tiny");
  ASSERT_EQ(file.tensors().size(), 2u);
  EXPECT_EQ(file.tensors()[0].name, "w");
  EXPECT_EQ(file.tensors()[0].shape, (Shape{3, 4}));
  EXPECT_EQ(file.tensors()[0].bytes, 48u);
  const Tensor w = file.to_float32("w");
  ASSERT_EQ(w.shape(), (Shape{3, 4}));
  EXPECT_EQ(w.data<float>()[1 * 4 + 2], 6.f);  // row 1, column 2
  EXPECT_EQ(float_values(file.to_float32("v")), (std::vector<float>{1.5f, -2.f}));
  EXPECT_EQ(file.raw("v").size(), 8u);
  EXPECT_EQ(file.find_tensor("missing"), nullptr);
  EXPECT_THROW(file.raw("missing"), Error);
  EXPECT_THROW(file.to_float32("missing"), Error);
}

TEST(Gguf, ReadsVersion2AndAnAlignmentOf8) {
  Bytes b;
  b.header(1, 1, 2).kv_u32("general.alignment", 8).tensor("x", {2}, 0, 0).pad(8).put(3.f).put(4.f);
  const GgufFile file = parse_bytes(b.s);
  EXPECT_EQ(file.version(), 2u);
  EXPECT_EQ(file.alignment(), 8u);
  EXPECT_EQ(float_values(file.to_float32("x")), (std::vector<float>{3.f, 4.f}));
}

TEST(Gguf, ReadsAVocabularyOnlyFileThatEndsBeforeThePadding) {
  Bytes b;
  b.header(0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(2).str("a").str("bc");
  const GgufFile file = parse_bytes(b.s);
  EXPECT_TRUE(file.tensors().empty());
  EXPECT_EQ(file.metadata().get_string_array("tokenizer.ggml.tokens"), (std::vector<std::string>{"a", "bc"}));
}

TEST(Gguf, WriterProducesTheSpecificationsBytes) {
  GgufMetadata metadata;
  metadata.add("general.architecture", GgufValue::of_string("llama"));
  const std::string path = temp_path("layout");
  save_gguf(path, metadata, {{"t", Tensor::from_vector<float>({2, 1}, {1.f, 2.f}), GgmlType::F32}});
  Bytes expected;
  expected.header(1, 1).str("general.architecture").u32(8).str("llama");
  expected.tensor("t", {1, 2}, 0, 0).pad(32).put(1.f).put(2.f).pad(32);
  EXPECT_EQ(file_contents(path), expected.s);
  std::filesystem::remove(path);
}

GgufMetadata every_value_type() {
  GgufMetadata m;
  m.add("u8", GgufValue::of_uint(200, GgufType::UInt8));
  m.add("i8", GgufValue::of_int(-100, GgufType::Int8));
  m.add("u16", GgufValue::of_uint(60000, GgufType::UInt16));
  m.add("i16", GgufValue::of_int(-30000, GgufType::Int16));
  m.add("u32", GgufValue::of_uint(4000000000u));
  m.add("i32", GgufValue::of_int(-2000000000));
  m.add("f32", GgufValue::of_float(0.25));
  m.add("bool", GgufValue::of_bool(true));
  m.add("string", GgufValue::of_string("héllo"));
  m.add("u64", GgufValue::of_uint(uint64_t{1} << 63, GgufType::UInt64));
  m.add("i64", GgufValue::of_int(-(int64_t{1} << 62), GgufType::Int64));
  m.add("f64", GgufValue::of_float(1e-300, GgufType::Float64));
  m.add("u8s", GgufValue::of_uints({0, 255}, GgufType::UInt8));
  m.add("i16s", GgufValue::of_ints({-1, 2, -3}, GgufType::Int16));
  m.add("i64s", GgufValue::of_ints({int64_t{1} << 40}, GgufType::Int64));
  m.add("f32s", GgufValue::of_floats({0.5, -1.25}));
  m.add("f64s", GgufValue::of_floats({}, GgufType::Float64));
  m.add("bools", GgufValue::of_bools({true, false, true}));
  m.add("strings", GgufValue::of_strings({"", "a", "▁the"}));
  m.add("nested", GgufValue::of_arrays({GgufValue::of_ints({1, 2}), GgufValue::of_strings({"x"}),
                                        GgufValue::of_arrays({GgufValue::of_uints({7}, GgufType::UInt64)})}));
  return m;
}

TEST(Gguf, RoundTripKeepsEveryMetadataTypeAndValue) {
  const GgufMetadata metadata = every_value_type();
  const std::string path = temp_path("metadata");
  save_gguf(path, metadata, {});
  const GgufFile file = GgufFile::open(path);
  ASSERT_EQ(file.metadata().entries().size(), metadata.entries().size());
  for (size_t i = 0; i < metadata.entries().size(); ++i) {
    SCOPED_TRACE(metadata.entries()[i].first);
    EXPECT_EQ(file.metadata().entries()[i], metadata.entries()[i]);
  }
  const GgufMetadata& m = file.metadata();
  EXPECT_EQ(m.get_uint("u64"), uint64_t{1} << 63);
  EXPECT_EQ(m.get_float("f32"), 0.25);
  EXPECT_EQ(m.get_float("u16"), 60000.0);
  EXPECT_TRUE(m.get_bool("bool"));
  EXPECT_EQ(m.get_string("string"), "héllo");
  EXPECT_EQ(m.get_int_array("i16s"), (std::vector<int64_t>{-1, 2, -3}));
  EXPECT_EQ(m.get_int_array("u8s"), (std::vector<int64_t>{0, 255}));
  EXPECT_EQ(m.get_float_array("f32s"), (std::vector<double>{0.5, -1.25}));
  EXPECT_EQ(m.get_float_array("f64s"), std::vector<double>{});
  EXPECT_EQ(m.get_string_array("strings"), (std::vector<std::string>{"", "a", "▁the"}));
  EXPECT_EQ(m.find("nested")->arrays[2].arrays[0].uints, std::vector<uint64_t>{7});
  EXPECT_EQ(m.find("absent"), nullptr);
  std::filesystem::remove(path);
}

TEST(Gguf, GettersNameTheFileAndKeyWhenMissingOrOfAnotherType) {
  const std::string path = temp_path("getters");
  save_gguf(path, every_value_type(), {});
  const GgufFile file = GgufFile::open(path);
  const GgufMetadata& m = file.metadata();
  const auto message = [](auto&& get) -> std::string {
    const auto e = testing::error_of(get);
    if (!e) return "no error";
    EXPECT_EQ(e->code(), ErrorCode::InvalidModel);
    return e->what();
  };
  EXPECT_EQ(message([&] { m.get_string("absent"); }), path + ": metadata key 'absent' is missing");
  EXPECT_EQ(message([&] { m.get_string("u32"); }), path + ": metadata key 'u32' must be a String, it is UInt32");
  EXPECT_EQ(message([&] { m.get_uint("i8"); }), path + ": metadata key 'i8' must be a non-negative integer, it is -100");
  EXPECT_EQ(message([&] { m.get_uint("bool"); }), path + ": metadata key 'bool' must be a non-negative integer, it is Bool");
  EXPECT_EQ(message([&] { m.get_float("string"); }), path + ": metadata key 'string' must be a number, it is String");
  EXPECT_EQ(message([&] { m.get_bool("u8"); }), path + ": metadata key 'u8' must be a Bool, it is UInt8");
  EXPECT_EQ(message([&] { m.get_string_array("f32s"); }),
            path + ": metadata key 'f32s' must be an array of String, it is an array of Float32");
  EXPECT_EQ(message([&] { m.get_float_array("strings"); }),
            path + ": metadata key 'strings' must be an array of numbers, it is an array of String");
  EXPECT_EQ(message([&] { m.get_int_array("f32s"); }),
            path + ": metadata key 'f32s' must be an array of integers, it is an array of Float32");
  EXPECT_EQ(message([&] { m.get_uint("u8s"); }),
            path + ": metadata key 'u8s' must be a non-negative integer, it is an array of UInt8");
  std::filesystem::remove(path);
}

TEST(Gguf, RoundTripOfEveryTensorType) {
  Tensor f16(DType::Float16, {3, 2}), bf16(DType::BFloat16, {5});
  for (int64_t i = 0; i < 6; ++i) f16.data<Float16>()[i] = to_float16(0.375f * static_cast<float>(i) - 1.f);
  for (int64_t i = 0; i < 5; ++i) bf16.data<BFloat16>()[i] = to_bfloat16(-3.f * static_cast<float>(i));
  const Tensor f32 = random_tensor({2, 3, 5}, 1);
  const Tensor for_f16 = random_tensor({7}, 2), for_bf16 = random_tensor({1, 2, 3, 4}, 3);
  const Tensor for_q8 = random_tensor({3, 64}, 4), for_q4 = random_tensor({2, 96}, 5);
  const std::vector<GgufTensorToWrite> tensors = {
      {"f32", f32, GgmlType::F32},           {"f16", f16, GgmlType::F16},
      {"f16_from_f32", for_f16, GgmlType::F16}, {"bf16", bf16, GgmlType::BF16},
      {"bf16_from_f32", for_bf16, GgmlType::BF16}, {"q8", for_q8, GgmlType::Q8_0},
      {"q4", for_q4, GgmlType::Q4_0},
  };
  const std::string path = temp_path("tensors");
  save_gguf(path, {}, tensors);
  const GgufFile file = GgufFile::open(path);
  ASSERT_EQ(file.tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(file.tensors()[i].name, tensors[i].name);
    EXPECT_EQ(file.tensors()[i].type, tensors[i].type);
    EXPECT_EQ(file.tensors()[i].shape, tensors[i].values.shape());
    EXPECT_EQ(file.tensors()[i].offset % 32, 0u);
  }
  EXPECT_EQ(float_values(file.to_float32("f32")), float_values(f32));
  EXPECT_EQ(file.raw("q8").size(), 3u * 2 * sizeof(BlockQ8_0));
  EXPECT_EQ(file.raw("q4").size(), 2u * 3 * sizeof(BlockQ4_0));
  EXPECT_EQ(std::memcmp(file.raw("f16").data(), f16.raw(), f16.nbytes()), 0);
  EXPECT_EQ(std::memcmp(file.raw("bf16").data(), bf16.raw(), bf16.nbytes()), 0);
  const Tensor f16_values = file.to_float32("f16_from_f32");
  for (int64_t i = 0; i < for_f16.numel(); ++i)
    EXPECT_EQ(f16_values.data<float>()[i], to_float(to_float16(for_f16.data<float>()[i])));
  const Tensor bf16_values = file.to_float32("bf16");
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(bf16_values.data<float>()[i], -3.f * static_cast<float>(i));
  const Tensor bf16_from_f32 = file.to_float32("bf16_from_f32");
  for (int64_t i = 0; i < for_bf16.numel(); ++i)
    EXPECT_EQ(bf16_from_f32.data<float>()[i], to_float(to_bfloat16(for_bf16.data<float>()[i])));
  // Q8_0 rounds to the nearest of steps amax/127: half a step off at most. Q4_0's codes reach 8
  // steps of amax/8 on the maximum's side but only 7 on the other, where values clamp: one step
  // off at most. Both also carry the float16 rounding of their scale.
  const auto check_blocks = [&](const char* name, const Tensor& x, float steps, float max_steps_off) {
    const Tensor y = file.to_float32(name);
    for (int64_t b = 0; b < x.numel() / 32; ++b) {
      float amax = 0.f;
      for (int64_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x.data<float>()[b * 32 + i]));
      for (int64_t i = 0; i < 32; ++i)
        EXPECT_NEAR(y.data<float>()[b * 32 + i], x.data<float>()[b * 32 + i], amax / steps * max_steps_off + 1e-3f * amax)
            << name << " block " << b << " element " << i;
    }
  };
  check_blocks("q8", for_q8, 127.f, 0.5f);
  check_blocks("q4", for_q4, 8.f, 1.f);
  std::filesystem::remove(path);
}

TEST(Gguf, AlignmentOtherThan32PlacesEveryTensorOnIt) {
  GgufMetadata metadata;
  metadata.add("general.alignment", GgufValue::of_uint(256));
  const std::string path = temp_path("alignment");
  save_gguf(path, metadata,
            {{"a", random_tensor({3}, 6), GgmlType::F32}, {"b", random_tensor({32}, 7), GgmlType::Q8_0},
             {"c", random_tensor({5}, 8), GgmlType::F16}});
  const GgufFile file = GgufFile::open(path);
  EXPECT_EQ(file.alignment(), 256u);
  for (const GgufTensorInfo& t : file.tensors()) {
    EXPECT_EQ(t.offset % 256, 0u) << t.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(file.raw(t.name).data()) % 256, 0u) << t.name;  // mappings start on a page
  }
  EXPECT_EQ(file.tensors()[1].offset, 256u);
  std::filesystem::remove(path);
}

TEST(Gguf, Q8_0BlockDequantizesAsDefined) {
  // d = 0.5 (float16 0x3800), q[i] = i - 16, so x[i] = 0.5 * (i - 16).
  Bytes b;
  b.header(1, 0).tensor("q", {32}, 8, 0).pad(32).put<uint16_t>(0x3800);
  for (int i = 0; i < 32; ++i) b.put(static_cast<int8_t>(i - 16));
  const Tensor x = parse_bytes(b.s).to_float32("q");
  for (int i = 0; i < 32; ++i) EXPECT_EQ(x.data<float>()[i], 0.5f * static_cast<float>(i - 16)) << i;
  EXPECT_EQ(x.data<float>()[0], -8.f);
  EXPECT_EQ(x.data<float>()[31], 7.5f);
}

TEST(Gguf, Q4_0BlockDequantizesLowNibblesFirst) {
  // d = 2 (float16 0x4000); byte j holds element j in its low nibble (value j) and element 16 + j
  // in its high nibble (value 15 - j); x = d * (q - 8).
  Bytes b;
  b.header(1, 0).tensor("q", {32, 2}, 2, 0).pad(32);
  for (int block = 0; block < 2; ++block) {
    b.put<uint16_t>(block == 0 ? 0x4000 : 0xbc00);  // the second block's d is -1
    for (int j = 0; j < 16; ++j) b.put(static_cast<uint8_t>(j | (15 - j) << 4));
  }
  const Tensor x = parse_bytes(b.s).to_float32("q");
  ASSERT_EQ(x.shape(), (Shape{2, 32}));
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(x.data<float>()[j], 2.f * static_cast<float>(j - 8)) << j;
    EXPECT_EQ(x.data<float>()[16 + j], 2.f * static_cast<float>(7 - j)) << j;
    EXPECT_EQ(x.data<float>()[32 + j], -1.f * static_cast<float>(j - 8)) << j;
  }
  EXPECT_EQ(x.data<float>()[0], -16.f);
  EXPECT_EQ(x.data<float>()[16], 14.f);
  EXPECT_EQ(x.data<float>()[31], -16.f);
}

TEST(Gguf, Q8_0QuantizerScalesByTheLargestMagnitudeAndRoundsHalfAway) {
  float x[32] = {};
  x[0] = -127.f;  // amax 127: d = 1
  x[1] = 63.5f;
  x[2] = -2.5f;
  x[3] = 0.49f;
  const BlockQ8_0 b = quantize_block_q8_0(x);
  EXPECT_EQ(to_float(b.d), 1.f);
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[1], 64);
  EXPECT_EQ(b.qs[2], -3);
  EXPECT_EQ(b.qs[3], 0);
  const float zeros[32] = {};
  const BlockQ8_0 z = quantize_block_q8_0(zeros);
  EXPECT_EQ(z.d.bits, 0);
  for (int8_t q : z.qs) EXPECT_EQ(q, 0);
}

TEST(Gguf, Q4_0QuantizerMapsTheSignedMaximumToCodeZero) {
  float x[32] = {};
  x[5] = -8.f;  // the largest magnitude, negative: d = -8 / -8 = 1
  x[6] = 7.f;
  x[7] = 0.6f;
  x[20] = 0.4f;
  const BlockQ4_0 b = quantize_block_q4_0(x);
  EXPECT_EQ(to_float(b.d), 1.f);
  EXPECT_EQ(b.qs[5] & 0xf, 0);       // -8 + 8.5 truncates to 0
  EXPECT_EQ(b.qs[6] & 0xf, 15);      // 7 + 8.5 truncates to 15
  EXPECT_EQ(b.qs[7] & 0xf, 9);       // 0.6 + 8.5 truncates to 9
  EXPECT_EQ(b.qs[4] >> 4, 8);        // element 20: 0.4 + 8.5 truncates to 8
  EXPECT_EQ(b.qs[0] & 0xf, 8);       // zeros sit at code 8
  float y[32] = {};
  y[0] = 8.f;  // positive maximum: d = -1, so -8 would map to 16, clamped to 15
  y[1] = -8.f;
  const BlockQ4_0 c = quantize_block_q4_0(y);
  EXPECT_EQ(to_float(c.d), -1.f);
  EXPECT_EQ(c.qs[0] & 0xf, 0);
  EXPECT_EQ(c.qs[1] & 0xf, 15);
}

TEST(Gguf, WriterRejectsWhatItCannotStore) {
  const std::string path = temp_path("rejected");
  const auto code_of = [&](const std::vector<GgufTensorToWrite>& tensors, const GgufMetadata& metadata = {}) {
    const auto e = testing::error_of([&] { save_gguf(path, metadata, tensors); });
    return e ? e->code() : ErrorCode::Runtime;
  };
  const Tensor row = random_tensor({32}, 9);
  EXPECT_EQ(code_of({{"a", row, GgmlType::F32}, {"a", row, GgmlType::F32}}), ErrorCode::InvalidArgument);
  EXPECT_EQ(code_of({{"a", random_tensor({33}, 1), GgmlType::Q8_0}}), ErrorCode::InvalidArgument);
  EXPECT_EQ(code_of({{"a", Tensor::scalar<float>(1.f), GgmlType::F32}}), ErrorCode::InvalidArgument);
  EXPECT_EQ(code_of({{"a", Tensor(DType::Float16, {32}), GgmlType::Q4_0}}), ErrorCode::InvalidArgument);
  Tensor nan = row.clone();
  nan.data<float>()[3] = std::nanf("");
  EXPECT_EQ(code_of({{"a", nan, GgmlType::Q8_0}}), ErrorCode::InvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(path));
  GgufMetadata bad;
  bad.add("general.alignment", GgufValue::of_uint(24));
  EXPECT_EQ(code_of({}, bad), ErrorCode::InvalidArgument);
  GgufMetadata too_big;
  too_big.add("k", GgufValue::of_uint(256, GgufType::UInt8));
  EXPECT_EQ(code_of({}, too_big), ErrorCode::InvalidArgument);
  EXPECT_THROW(GgufValue::of_uint(1, GgufType::Int8), Error);
  EXPECT_THROW(too_big.add("k", GgufValue::of_bool(false)), Error);
  std::filesystem::remove(path);
}

struct MalformedCase {
  const char* what;
  std::string bytes;
  ErrorCode code;
  const char* message;
};

// A header of one tensor and no key/values, then that tensor's info and 64 bytes of data.
std::string one_tensor(const std::vector<uint64_t>& ne, uint32_t type, uint64_t offset, size_t data = 64) {
  return Bytes().header(1, 0).tensor("t", ne, type, offset).pad(32).zeros(data).s;
}

std::string one_key(const std::function<void(Bytes&)>& value) {
  Bytes b;
  b.header(0, 1).str("k");
  value(b);
  return b.s;
}

TEST(Gguf, MalformedFilesGiveClearErrors) {
  // Key 'k': an array of arrays, nine levels of them, around an empty array of UInt32.
  Bytes nested;
  nested.header(0, 1).str("k").u32(9);
  for (int i = 0; i < 9; ++i) nested.u32(9).u64(1);
  nested.u32(4).u64(0);
  const MalformedCase cases[] = {
      {"empty", "", ErrorCode::InvalidModel, "does not start with the magic \"GGUF\""},
      {"bad magic", Bytes().raw("GGUG").u32(3).u64(0).u64(0).s, ErrorCode::InvalidModel, "magic"},
      {"version 1", Bytes().raw("GGUF").u32(1).u32(0).u32(0).s, ErrorCode::NotImplemented, "GGUF version 1 is not supported"},
      {"big-endian", Bytes().raw("GGUF").u32(0x03000000).u64(0).u64(0).s, ErrorCode::NotImplemented, "big-endian"},
      {"version 9", Bytes().header(0, 0, 9).s, ErrorCode::InvalidModel, "unknown GGUF version 9"},
      {"truncated counts", Bytes().raw("GGUF").u32(3).u32(0).s, ErrorCode::InvalidModel, "the tensor count runs past the end"},
      {"huge tensor count", Bytes().header(uint64_t{1} << 60, 0).zeros(100).s, ErrorCode::InvalidModel,
       "0 key/values and 1152921504606846976 tensors cannot fit in the 100 bytes"},
      {"huge key/value count", Bytes().header(0, ~uint64_t{0}).zeros(100).s, ErrorCode::InvalidModel, "cannot fit"},
      {"key past end", Bytes().header(0, 1).u64(1000).zeros(20).s, ErrorCode::InvalidModel,
       "the key of key/value 0 of 1000 bytes runs past the end"},
      {"string value past end", one_key([](Bytes& b) { b.u32(8).u64(5000).zeros(10); }), ErrorCode::InvalidModel,
       "metadata key 'k' of 5000 bytes runs past the end"},
      {"truncated value", one_key([](Bytes& b) { b.u32(10).u32(0); }), ErrorCode::InvalidModel,
       "metadata key 'k' runs past the end"},
      {"unknown value type", one_key([](Bytes& b) { b.u32(13).u32(0); }), ErrorCode::InvalidModel, "unknown value type 13"},
      {"unknown item type", one_key([](Bytes& b) { b.u32(9).u32(77).u64(0); }), ErrorCode::InvalidModel,
       "metadata key 'k' has unknown item type 77"},
      {"array past end", one_key([](Bytes& b) { b.u32(9).u32(4).u64(1000).zeros(40); }), ErrorCode::InvalidModel,
       "claims 1000 items of UInt32, more than the 40 bytes left"},
      {"string array past end", one_key([](Bytes& b) { b.u32(9).u32(8).u64(uint64_t{1} << 61).zeros(16); }),
       ErrorCode::InvalidModel, "items of String"},
      {"nested too deep", nested.s, ErrorCode::InvalidModel, "nests arrays deeper than 8"},
      {"bool of 2", one_key([](Bytes& b) { b.u32(7).put<uint8_t>(2); }), ErrorCode::InvalidModel, "not 0 or 1"},
      {"repeated key", Bytes().header(0, 2).kv_u32("k", 1).kv_u32("k", 2).s, ErrorCode::InvalidModel,
       "metadata key 'k' is repeated"},
      {"alignment 24", Bytes().header(0, 1).kv_u32("general.alignment", 24).s, ErrorCode::InvalidModel,
       "general.alignment 24 is not a power of two"},
      {"alignment 0", Bytes().header(0, 1).kv_u32("general.alignment", 0).s, ErrorCode::InvalidModel,
       "not a power of two"},
      {"alignment string", Bytes().header(0, 1).str("general.alignment").u32(8).str("32").s, ErrorCode::InvalidModel,
       "general.alignment must be a UInt32"},
      {"tensor name past end", Bytes().header(1, 0).u64(99).zeros(40).s, ErrorCode::InvalidModel,
       "the name of tensor 0 of 99 bytes runs past the end"},
      {"truncated tensor info", Bytes().header(1, 0).str("t").u32(2).u64(4).zeros(11).s, ErrorCode::InvalidModel,
       "the type of tensor 't' runs past the end"},
      {"repeated tensor", Bytes().header(2, 0).tensor("t", {8}, 0, 0).tensor("t", {8}, 0, 32).pad(32).zeros(64).s,
       ErrorCode::InvalidModel, "tensor 't' is listed twice"},
      {"0 dims", one_tensor({}, 0, 0), ErrorCode::InvalidModel, "tensor 't' has 0 dims, GGUF allows 1 to 4"},
      {"5 dims", one_tensor({1, 1, 1, 1, 1}, 0, 0), ErrorCode::InvalidModel, "tensor 't' has 5 dims"},
      {"overflowing dims", one_tensor({uint64_t{1} << 40, uint64_t{1} << 40}, 0, 0), ErrorCode::InvalidModel,
       "more elements than any file holds"},
      {"unknown type", one_tensor({8}, 99, 0), ErrorCode::InvalidModel, "tensor 't' has unknown ggml type 99"},
      {"removed type 4", one_tensor({8}, 4, 0), ErrorCode::InvalidModel, "unknown ggml type 4"},
      {"Q4_K", one_tensor({256}, 12, 0), ErrorCode::NotImplemented, "tensor 't' has ggml type Q4_K"},
      {"Q8_0 rows of 48", one_tensor({48}, 8, 0), ErrorCode::InvalidModel,
       "tensor 't' has rows of 48 elements, not a multiple of Q8_0's block of 32"},
      {"misaligned offset", one_tensor({4}, 0, 4), ErrorCode::InvalidModel,
       "tensor 't' starts at offset 4, not a multiple of the alignment 32"},
      {"past end", one_tensor({32}, 0, 0, 100), ErrorCode::InvalidModel,
       "tensor 't' (128 bytes at offset 0) runs past the end of the 100 bytes of data"},
      {"offset past end", one_tensor({1}, 0, 1 << 20), ErrorCode::InvalidModel, "runs past the end"},
      {"overlap", Bytes().header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad(32).zeros(64).s,
       ErrorCode::InvalidModel, "tensors 'a' and 'b' overlap"},
  };
  for (const MalformedCase& c : cases) {
    SCOPED_TRACE(c.what);
    const auto e = testing::error_of([&] { parse_bytes(c.bytes); });
    ASSERT_TRUE(e) << "accepted";
    const std::string message = e->what();
    EXPECT_EQ(e->code(), c.code) << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << message;
    EXPECT_EQ(message.rfind("test.gguf: ", 0), 0u) << message;
  }
}

std::string seed_file() {
  GgufMetadata metadata = every_value_type();
  metadata.add("general.alignment", GgufValue::of_uint(16));
  const std::string path = temp_path("fuzz_seed");
  save_gguf(path, metadata,
            {{"a", random_tensor({2, 3}, 10), GgmlType::F32}, {"b", random_tensor({32}, 11), GgmlType::Q8_0},
             {"c", random_tensor({2, 32}, 12), GgmlType::Q4_0}, {"d", random_tensor({3}, 13), GgmlType::BF16},
             {"e", random_tensor({1, 2, 1, 2}, 14), GgmlType::F16}});
  std::string bytes = file_contents(path);
  std::filesystem::remove(path);
  return bytes;
}

TEST(Gguf, TruncatedAnywhereBeforeTheLastTensorsEndFails) {
  const std::string seed = seed_file();
  const auto* base = reinterpret_cast<const std::byte*>(seed.data());
  const GgufFile whole = GgufFile::parse(nullptr, base, seed.size(), "test.gguf");
  size_t end = 0;
  for (const GgufTensorInfo& t : whole.tensors())
    end = std::max(end, static_cast<size_t>(whole.raw(t.name).data() - base) + t.bytes);
  ASSERT_LT(end, seed.size());  // the writer pads after the last tensor, and a cut there is harmless
  EXPECT_NO_THROW(parse_bytes(seed.substr(0, end)));
  for (size_t n = 0; n < end; ++n) {
    const auto e = testing::error_of([&] { parse_bytes(seed.substr(0, n)); });
    ASSERT_TRUE(e) << "accepted " << n << " bytes";
    const std::string message = e->what();
    EXPECT_EQ(e->code(), ErrorCode::InvalidModel) << message;
    EXPECT_TRUE(message.find("runs past the end") != std::string::npos || message.find("cannot fit") != std::string::npos ||
                message.find("bytes left can hold") != std::string::npos || message.find("magic") != std::string::npos)
        << message;
  }
}

// Mutations of a valid file (bytes changed anywhere, a count or length rewritten, the file cut
// short) must either parse, every tensor then readable, or fail with kiln::Error.
TEST(Gguf, MutatedFilesParseOrFailCleanly) {
  const std::string seed = seed_file();
  std::mt19937 rng(5);
  int parsed = 0, rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes = seed;
    switch (trial % 4) {
      case 0:
        for (uint32_t n = 1 + rng() % 4; n-- > 0;) bytes[rng() % bytes.size()] = static_cast<char>(rng());
        break;
      case 1: {  // a plausible 64-bit length or count at a random place
        const uint64_t v = uint64_t{1} << (rng() % 64);
        std::memcpy(&bytes[rng() % (bytes.size() - 8)], &v, 8);
        break;
      }
      case 2: bytes[4 + rng() % 20] = static_cast<char>(rng()); break;  // version and counts
      default: bytes.resize(rng() % bytes.size()); break;
    }
    try {
      const GgufFile file = parse_bytes(bytes);
      for (const GgufTensorInfo& t : file.tensors()) {
        file.raw(t.name);
        file.to_float32(t.name);
      }
      ++parsed;
    } catch (const Error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 2000);  // most mutations break something the reader checks
  EXPECT_GT(parsed, 100);     // some only change values
}

TEST(Gguf, MissingFileIsAnIoError) {
  const auto e = testing::error_of([] { GgufFile::open("/nonexistent/model.gguf"); });
  ASSERT_TRUE(e) << "opened";
  EXPECT_EQ(e->code(), ErrorCode::Io);
}

}  // namespace
}  // namespace kiln::llm
