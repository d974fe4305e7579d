// The safetensors reader and writer: round trips of every dtype, the format's byte layout as the
// specification gives it, each malformed form with the error it must give, and random mutations of
// a valid file that may fail only with kiln::Error (run under ASan and UBSan too).
#include "llm/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "test_util.h"

namespace kiln::llm {
namespace {

// An 8-byte little-endian length, the header, then the data.
std::string file_bytes(const std::string& header, const std::string& data) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[static_cast<size_t>(i)] = static_cast<char>(header.size() >> (8 * i) & 0xff);
  return bytes + header + data;
}

SafetensorsFile parse_bytes(const std::string& bytes) {
  auto owner = std::make_shared<std::string>(bytes);
  return SafetensorsFile::parse(owner, reinterpret_cast<const std::byte*>(owner->data()), owner->size(), "test.safetensors");
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("kiln_safetensors_" + name)).string();
}

TEST(Safetensors, RoundTripKeepsOrderDtypesShapesValuesAndMetadata) {
  const Tensor f32 = testing::random_tensor({2, 3}, 1);
  Tensor f16(DType::Float16, {5}), bf16(DType::BFloat16, {4, 1});
  for (int64_t i = 0; i < 5; ++i) f16.data<Float16>()[i] = to_float16(0.5f * static_cast<float>(i));
  for (int64_t i = 0; i < 4; ++i) bf16.data<BFloat16>()[i] = to_bfloat16(-1.f * static_cast<float>(i));
  const Tensor i64 = Tensor::scalar<int64_t>(-7);
  const Tensor empty(DType::Bool, {0, 3});
  const std::vector<std::pair<std::string, Tensor>> tensors = {
      {"model.layers.0.weight", f32}, {"b.f16", f16}, {"a.bf16", bf16}, {"step", i64}, {"mask", empty}};
  const std::string path = temp_path("round_trip");
  save_safetensors(path, tensors, {{"format", "pt"}});
  const SafetensorsFile file = SafetensorsFile::open(path);
  ASSERT_EQ(file.entries().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, expected] = tensors[i];
    EXPECT_EQ(file.entries()[i].name, name);
    const Tensor t = file.tensor(name);
    EXPECT_EQ(t.dtype(), expected.dtype()) << name;
    EXPECT_EQ(t.shape(), expected.shape()) << name;
    EXPECT_EQ(std::memcmp(t.raw(), expected.raw(), expected.nbytes()), 0) << name;
  }
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  EXPECT_EQ(file.find("missing"), nullptr);
  EXPECT_THROW(file.tensor("missing"), Error);
  std::filesystem::remove(path);
}

TEST(Safetensors, WritingAViewLeavesTheFileAsItWas) {
  const std::string path = temp_path("view");
  save_safetensors(path, {{"w", Tensor::from_vector<float>({2}, {1.f, 2.f})}});
  {
    Tensor view = SafetensorsFile::open(path).tensor("w");  // the view keeps the mapping alive
    view.data<float>()[0] = 99.f;
    EXPECT_EQ(view.data<float>()[0], 99.f);
  }
  EXPECT_EQ(SafetensorsFile::open(path).tensor("w").data<float>()[0], 1.f);
  std::filesystem::remove(path);
}

TEST(Safetensors, ReadsTheSpecificationsLayoutIncludingUnalignedData) {
  // Spaces after the JSON (writers pad with them) put the data two bytes off float32 alignment.
  std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{}})";
  while ((8 + header.size()) % 4 != 2) header += ' ';
  float values[2] = {1.5f, -2.25f};
  const SafetensorsFile file = parse_bytes(file_bytes(header, std::string(reinterpret_cast<char*>(values), 8)));
  const Tensor x = file.tensor("x");
  ASSERT_EQ(x.shape(), Shape{2});
  EXPECT_EQ(x.data<float>()[0], 1.5f);
  EXPECT_EQ(x.data<float>()[1], -2.25f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(x.raw()) % 4, 0u);
}

struct MalformedCase {
  const char* what;
  std::string bytes;
  ErrorCode code;
  const char* message;
};

std::string one_tensor(const std::string& fields, size_t data_bytes) {
  return file_bytes("{\"t\":{" + fields + "}}", std::string(data_bytes, '\0'));
}

TEST(Safetensors, MalformedFilesGiveClearErrors) {
  const std::string good = R"("dtype":"F32","shape":[2,2],"data_offsets":[0,16])";
  std::string huge_length = file_bytes("{}", "");
  huge_length[4] = 1;  // 2^32 bytes of header
  std::string past_end = file_bytes("{}", "");
  past_end[0] = 9;
  const MalformedCase cases[] = {
      {"short", "abc", ErrorCode::InvalidModel, "fewer than the 8"},
      {"huge header", huge_length, ErrorCode::InvalidModel, "over 100 MB"},
      {"header past end", past_end, ErrorCode::InvalidModel, "runs past the end"},
      {"not an object", file_bytes("[1, 2]", ""), ErrorCode::InvalidModel, "does not start with '{'"},
      {"not JSON", file_bytes("{\"t\": ", ""), ErrorCode::InvalidModel, "not JSON"},
      {"repeated name", file_bytes("{\"t\":{" + good + "},\"t\":{" + good + "}}", std::string(16, '\0')),
       ErrorCode::InvalidModel, "'t' is listed twice"},
      {"too deep", file_bytes(R"({"t":[[[[[[[[[[1]]]]]]]]]]})", ""), ErrorCode::InvalidModel, "nests deeper"},
      {"entry not object", file_bytes(R"({"t":3})", ""), ErrorCode::InvalidModel, "'t' is not an object"},
      {"no dtype", one_tensor(R"("shape":[2,2],"data_offsets":[0,16])", 16), ErrorCode::InvalidModel, "no dtype"},
      {"unknown dtype", one_tensor(R"("dtype":"Q4","shape":[2],"data_offsets":[0,1])", 1), ErrorCode::InvalidModel,
       "unknown dtype 'Q4'"},
      {"float8", one_tensor(R"("dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2])", 2), ErrorCode::NotImplemented,
       "F8_E4M3"},
      {"no shape", one_tensor(R"("dtype":"F32","data_offsets":[0,16])", 16), ErrorCode::InvalidModel, "no shape"},
      {"negative dim", one_tensor(R"("dtype":"F32","shape":[-2,2],"data_offsets":[0,16])", 16),
       ErrorCode::InvalidModel, "non-negative integers"},
      {"fractional dim", one_tensor(R"("dtype":"F32","shape":[1.5],"data_offsets":[0,4])", 4), ErrorCode::InvalidModel,
       "non-negative integers"},
      {"overflowing shape", one_tensor(R"("dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16])", 16),
       ErrorCode::InvalidModel, "more elements than any file holds"},
      {"one offset", one_tensor(R"("dtype":"F32","shape":[2,2],"data_offsets":[16])", 16), ErrorCode::InvalidModel,
       "no data_offsets"},
      {"reversed offsets", one_tensor(R"("dtype":"F32","shape":[0],"data_offsets":[16,0])", 16),
       ErrorCode::InvalidModel, "ends before it begins"},
      {"size mismatch", one_tensor(R"("dtype":"F32","shape":[2,2],"data_offsets":[0,12])", 12),
       ErrorCode::InvalidModel, "needs 16 bytes, its data_offsets hold 12"},
      {"gap", one_tensor(R"("dtype":"F32","shape":[2,2],"data_offsets":[4,20])", 20), ErrorCode::InvalidModel,
       "(a gap)"},
      {"overlap",
       file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                  std::string(12, '\0')),
       ErrorCode::InvalidModel, "overlaps another"},
      {"trailing data", one_tensor(good, 20), ErrorCode::InvalidModel, "hold 16 bytes of data, the file has 20"},
      {"short data", one_tensor(good, 10), ErrorCode::InvalidModel, "hold 16 bytes of data, the file has 10"},
      {"metadata not object", file_bytes(R"({"__metadata__":[1]})", ""), ErrorCode::InvalidModel,
       "__metadata__ is not an object"},
      {"metadata value", file_bytes(R"({"__metadata__":{"k":1}})", ""), ErrorCode::InvalidModel,
       "entry 'k' is not a string"},
  };
  for (const MalformedCase& c : cases) {
    SCOPED_TRACE(c.what);
    try {
      parse_bytes(c.bytes);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), c.code);
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("test.safetensors"), std::string::npos) << e.what();
    }
  }
}

TEST(Safetensors, MissingOrIrregularFileIsAnIoError) {
  try {
    SafetensorsFile::open("/nonexistent/model.safetensors");
    ADD_FAILURE() << "opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::Io);
  }
  EXPECT_THROW(SafetensorsFile::open(std::filesystem::temp_directory_path().string()), Error);
}

// Mutations of a valid file (bytes changed anywhere, the length rewritten, the file cut short)
// must either parse, every tensor then readable, or fail with kiln::Error.
TEST(Safetensors, MutatedFilesParseOrFailCleanly) {
  const std::string path = temp_path("fuzz_seed");
  save_safetensors(path, {{"a", testing::random_tensor({3, 2}, 2)}, {"b", Tensor::scalar<int64_t>(4)},
                          {"c", Tensor(DType::Float16, {0})}}, {{"k", "v"}});
  const auto mapped = MappedFile::open(path);
  const std::string seed(reinterpret_cast<const char*>(mapped->data()), mapped->size());
  std::filesystem::remove(path);
  std::mt19937 rng(5);
  int parsed = 0, rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes = seed;
    switch (trial % 3) {
      case 0:
        for (uint32_t n = 1 + rng() % 4; n-- > 0;) bytes[rng() % bytes.size()] = static_cast<char>(rng());
        break;
      case 1: bytes[rng() % 8] = static_cast<char>(rng()); break;
      default: bytes.resize(rng() % bytes.size()); break;
    }
    try {
      const SafetensorsFile file = parse_bytes(bytes);
      for (const auto& e : file.entries()) file.tensor(e.name);
      ++parsed;
    } catch (const Error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 1000);  // most mutations break something the reader checks
  EXPECT_GT(parsed, 0);       // some only change values
}

}  // namespace
}  // namespace kiln::llm
