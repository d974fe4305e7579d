#include "llm/gguf_metadata.h"

#include <limits>

#include "kiln/error.h"

namespace kiln::llm {
namespace {

constexpr const char* kTypeNames[] = {"UInt8", "Int8",   "UInt16", "Int16", "UInt32", "Int32",  "Float32",
                                      "Bool",  "String", "Array",  "UInt64", "Int64", "Float64"};

void check_kind(GgufType type, GgufKind kind, const char* factory) {
  if (!gguf_type_name(type) || gguf_kind(type) != kind || type == GgufType::Bool)
    throw Error(ErrorCode::InvalidArgument, std::string("GgufValue::") + factory + ": type " +
                                                std::to_string(static_cast<uint32_t>(type)) + " is not of this kind");
}

GgufValue items_of(GgufType type, GgufType item_type) {
  GgufValue v;
  v.type = type;
  v.item_type = item_type;
  return v;
}

std::string describe(const GgufValue& v) {
  return v.is_array() ? std::string("an array of ") + gguf_type_name(v.item_type) : gguf_type_name(v.type);
}

bool is_integer(GgufType t) {
  const GgufKind kind = gguf_kind(t);
  return t != GgufType::Bool && (kind == GgufKind::Unsigned || kind == GgufKind::Signed);
}
bool is_number(GgufType t) { return is_integer(t) || gguf_kind(t) == GgufKind::Float; }

}  // namespace

const char* gguf_type_name(GgufType type) {
  const auto i = static_cast<uint32_t>(type);
  return i < std::size(kTypeNames) ? kTypeNames[i] : nullptr;
}

GgufKind gguf_kind(GgufType type) {
  switch (type) {
    case GgufType::UInt8: case GgufType::UInt16: case GgufType::UInt32: case GgufType::UInt64: case GgufType::Bool:
      return GgufKind::Unsigned;
    case GgufType::Int8: case GgufType::Int16: case GgufType::Int32: case GgufType::Int64: return GgufKind::Signed;
    case GgufType::Float32: case GgufType::Float64: return GgufKind::Float;
    case GgufType::String: return GgufKind::String;
    case GgufType::Array: return GgufKind::Array;
  }
  throw Error(ErrorCode::InvalidArgument, "unknown GGUF value type " + std::to_string(static_cast<uint32_t>(type)));
}

size_t GgufValue::size() const {
  switch (gguf_kind(item_type)) {
    case GgufKind::Unsigned: return uints.size();
    case GgufKind::Signed: return ints.size();
    case GgufKind::Float: return floats.size();
    case GgufKind::String: return strings.size();
    case GgufKind::Array: return arrays.size();
  }
  return 0;
}

GgufValue GgufValue::of_uint(uint64_t value, GgufType type) { return of_uints({value}, type).as_scalar(); }
GgufValue GgufValue::of_int(int64_t value, GgufType type) { return of_ints({value}, type).as_scalar(); }
GgufValue GgufValue::of_float(double value, GgufType type) { return of_floats({value}, type).as_scalar(); }
GgufValue GgufValue::of_bool(bool value) { return of_bools({value}).as_scalar(); }
GgufValue GgufValue::of_string(std::string value) { return of_strings({std::move(value)}).as_scalar(); }

GgufValue GgufValue::of_uints(std::vector<uint64_t> values, GgufType item_type) {
  check_kind(item_type, GgufKind::Unsigned, "of_uints");
  GgufValue v = items_of(GgufType::Array, item_type);
  v.uints = std::move(values);
  return v;
}

GgufValue GgufValue::of_ints(std::vector<int64_t> values, GgufType item_type) {
  check_kind(item_type, GgufKind::Signed, "of_ints");
  GgufValue v = items_of(GgufType::Array, item_type);
  v.ints = std::move(values);
  return v;
}

GgufValue GgufValue::of_floats(std::vector<double> values, GgufType item_type) {
  check_kind(item_type, GgufKind::Float, "of_floats");
  GgufValue v = items_of(GgufType::Array, item_type);
  v.floats = std::move(values);
  return v;
}

GgufValue GgufValue::of_bools(const std::vector<bool>& values) {
  GgufValue v = items_of(GgufType::Array, GgufType::Bool);
  v.uints.assign(values.begin(), values.end());
  return v;
}

GgufValue GgufValue::of_strings(std::vector<std::string> values) {
  GgufValue v = items_of(GgufType::Array, GgufType::String);
  v.strings = std::move(values);
  return v;
}

GgufValue GgufValue::of_arrays(std::vector<GgufValue> values) {
  for (const GgufValue& item : values)
    if (!item.is_array()) throw Error(ErrorCode::InvalidArgument, "GgufValue::of_arrays: an item is not an array");
  GgufValue v = items_of(GgufType::Array, GgufType::Array);
  v.arrays = std::move(values);
  return v;
}

GgufValue GgufValue::as_scalar() && {
  type = item_type;
  return std::move(*this);
}

void GgufMetadata::add(const std::string& key, GgufValue value) {
  if (!index_.emplace(key, entries_.size()).second)
    throw Error(ErrorCode::InvalidArgument, source_ + ": metadata key '" + key + "' is already present");
  entries_.emplace_back(key, std::move(value));
}

const GgufValue* GgufMetadata::find(const std::string& key) const {
  const auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

const GgufValue& GgufMetadata::get(const std::string& key, const char* expected,
                                   bool (*accepts)(const GgufValue&)) const {
  const GgufValue* v = find(key);
  if (!v) fail(key, "is missing");
  if (!accepts(*v))
    fail(key, std::string("must be ") + expected + ", it is " + describe(*v));
  return *v;
}

std::string GgufMetadata::get_string(const std::string& key) const {
  return get(key, "a String", [](const GgufValue& v) { return v.type == GgufType::String; }).strings[0];
}

uint64_t GgufMetadata::get_uint(const std::string& key) const {
  const GgufValue& v = get(key, "a non-negative integer", [](const GgufValue& candidate) { return is_integer(candidate.type); });
  if (gguf_kind(v.type) == GgufKind::Unsigned) return v.uints[0];
  if (v.ints[0] < 0)
    fail(key, "must be a non-negative integer, it is " + std::to_string(v.ints[0]));
  return static_cast<uint64_t>(v.ints[0]);
}

double GgufMetadata::get_float(const std::string& key) const {
  const GgufValue& v = get(key, "a number", [](const GgufValue& candidate) { return is_number(candidate.type); });
  switch (gguf_kind(v.type)) {
    case GgufKind::Unsigned: return static_cast<double>(v.uints[0]);
    case GgufKind::Signed: return static_cast<double>(v.ints[0]);
    default: return v.floats[0];
  }
}

std::optional<int64_t> GgufMetadata::find_token_id(const std::string& key, int64_t vocab_size) const {
  if (!find(key)) return std::nullopt;
  const uint64_t id = get_uint(key);
  if (id >= static_cast<uint64_t>(vocab_size)) fail(key, std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab_size));
  return static_cast<int64_t>(id);
}

void GgufMetadata::fail(const std::string& key, const std::string& problem) const {
  throw Error(ErrorCode::InvalidModel, source_ + ": metadata key '" + key + "' " + problem);
}

bool GgufMetadata::get_bool(const std::string& key) const {
  return get(key, "a Bool", [](const GgufValue& v) { return v.type == GgufType::Bool; }).uints[0] != 0;
}

std::vector<std::string> GgufMetadata::get_string_array(const std::string& key) const {
  return get(key, "an array of String", [](const GgufValue& v) { return v.is_array() && v.item_type == GgufType::String; })
      .strings;
}

std::vector<double> GgufMetadata::get_float_array(const std::string& key) const {
  const GgufValue& v =
      get(key, "an array of numbers", [](const GgufValue& candidate) { return candidate.is_array() && is_number(candidate.item_type); });
  switch (gguf_kind(v.item_type)) {
    case GgufKind::Unsigned: return {v.uints.begin(), v.uints.end()};
    case GgufKind::Signed: return {v.ints.begin(), v.ints.end()};
    default: return v.floats;
  }
}

std::vector<int64_t> GgufMetadata::get_int_array(const std::string& key) const {
  const GgufValue& v =
      get(key, "an array of integers", [](const GgufValue& candidate) { return candidate.is_array() && is_integer(candidate.item_type); });
  if (gguf_kind(v.item_type) == GgufKind::Signed) return v.ints;
  std::vector<int64_t> values;
  values.reserve(v.uints.size());
  for (uint64_t u : v.uints) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(key, "holds " + std::to_string(u) + ", which does not fit int64");
    values.push_back(static_cast<int64_t>(u));
  }
  return values;
}

}  // namespace kiln::llm
