// GGUF's metadata: typed key/values, each a scalar or an array (of scalars, strings or arrays).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kiln::llm {

enum class GgufType : uint32_t {
  UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
  String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
};
// Null for a value that is not one of the enumerators (a file may carry any integer).
const char* gguf_type_name(GgufType type);

// Which of GgufValue's stores holds the items of a type.
enum class GgufKind { Unsigned, Signed, Float, String, Array };
// Bool is Unsigned (0 or 1). `type` must be a known type.
GgufKind gguf_kind(GgufType type);

// A metadata value: a scalar, or an array whose items share one type (arrays may hold arrays).
// The items, one for a scalar, are kept in the store of their kind, widened; the GGUF type is kept
// beside them so that a value written back has the type it was read with.
struct GgufValue {
  GgufType type = GgufType::UInt32;
  GgufType item_type = GgufType::UInt32;  // an Array's items' type; `type` itself for a scalar
  std::vector<uint64_t> uints;            // UInt8..UInt64, and Bool as 0 or 1
  std::vector<int64_t> ints;              // Int8..Int64
  std::vector<double> floats;             // Float32, Float64
  std::vector<std::string> strings;       // String
  std::vector<GgufValue> arrays;          // Array: the items of an array of arrays

  bool operator==(const GgufValue&) const = default;
  bool is_array() const { return type == GgufType::Array; }
  // The number of items; 1 for a scalar.
  size_t size() const;

  static GgufValue of_uint(uint64_t value, GgufType type = GgufType::UInt32);
  static GgufValue of_int(int64_t value, GgufType type = GgufType::Int32);
  static GgufValue of_float(double value, GgufType type = GgufType::Float32);
  static GgufValue of_bool(bool value);
  static GgufValue of_string(std::string value);
  static GgufValue of_uints(std::vector<uint64_t> values, GgufType item_type = GgufType::UInt32);
  static GgufValue of_ints(std::vector<int64_t> values, GgufType item_type = GgufType::Int32);
  static GgufValue of_floats(std::vector<double> values, GgufType item_type = GgufType::Float32);
  static GgufValue of_bools(const std::vector<bool>& values);
  static GgufValue of_strings(std::vector<std::string> values);
  // Arrays of arrays: the items must all be arrays; their own item types may differ.
  static GgufValue of_arrays(std::vector<GgufValue> values);

 private:
  // The one-item array as a scalar of its item type.
  GgufValue as_scalar() &&;
};

// Key/values in file order. The getters throw Error(InvalidModel) naming the source and the key
// when it is missing or its value is of another kind.
class GgufMetadata {
 public:
  GgufMetadata() : GgufMetadata("GGUF metadata") {}
  explicit GgufMetadata(std::string source) : source_(std::move(source)) {}

  // What errors name: the file the metadata was read from.
  const std::string& source() const { return source_; }

  // Throws Error(InvalidArgument) for a key already present.
  void add(const std::string& key, GgufValue value);
  const std::vector<std::pair<std::string, GgufValue>>& entries() const { return entries_; }
  // Null when the key is absent.
  const GgufValue* find(const std::string& key) const;

  std::string get_string(const std::string& key) const;
  // Any integer type, provided the value is not negative.
  uint64_t get_uint(const std::string& key) const;
  // A float or an integer type.
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  // A token id (an unsigned integer below `vocab_size`); nullopt when the key is absent.
  std::optional<int64_t> find_token_id(const std::string& key, int64_t vocab_size) const;
  // Throws Error(InvalidModel): "<source>: metadata key '<key>' <problem>".
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  // Arrays of a float or an integer type.
  std::vector<double> get_float_array(const std::string& key) const;
  // Arrays of an integer type whose values fit int64.
  std::vector<int64_t> get_int_array(const std::string& key) const;

 private:
  const GgufValue& get(const std::string& key, const char* expected, bool (*accepts)(const GgufValue&)) const;

  std::string source_;
  std::vector<std::pair<std::string, GgufValue>> entries_;
  std::map<std::string, size_t> index_;
};

}  // namespace kiln::llm
