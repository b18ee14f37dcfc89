#include "run/json_reader.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "isoqube/errors.h"

namespace isoqube::detail {

JsonReader::JsonReader(const Json& value, std::string what, std::string path)
    : value_(value), what_(std::move(what)), path_(std::move(path)) {
  if (!value_.is_object()) {
    fail(path_.empty() ? "" : path_,
         std::string("must be a JSON object, got ") + value_.type_name());
  }
}

void JsonReader::fail(const std::string& path,
                      const std::string& problem) const {
  const std::string subject = path.empty() ? "" : "'" + path + "' ";
  throw ConfigurationError(
      "invalid " + what_ + ": " + subject + problem, path,
      path.empty() ? problem : "'" + path + "' " + problem);
}

std::string JsonReader::path_of(const char* key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const Json* JsonReader::find(const char* key) const {
  const auto it = value_.find(key);
  if (it == value_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string JsonReader::string(const char* key) const {
  const Json* value = find(key);
  if (value == nullptr) return {};
  if (!value->is_string()) {
    fail(path_of(key),
         std::string("must be a string, got ") + value->type_name());
  }
  return value->get<std::string>();
}

std::string JsonReader::required_string(const char* key) const {
  if (find(key) == nullptr) fail(path_of(key), "is missing");
  return string(key);
}

int64_t JsonReader::integer64(const char* key, int64_t fallback) const {
  const Json* value = find(key);
  if (value == nullptr) return fallback;
  if (!value->is_number_integer()) {
    fail(path_of(key),
         std::string("must be an integer, got ") + value->type_name());
  }
  if (value->is_number_unsigned() &&
      value->get<uint64_t>() >
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    fail(path_of(key), "is out of range: " + value->dump());
  }
  return value->get<int64_t>();
}

int JsonReader::integer(const char* key, int fallback) const {
  const int64_t value = integer64(key, fallback);
  if (value < std::numeric_limits<int>::min() ||
      value > std::numeric_limits<int>::max()) {
    fail(path_of(key), "is out of range: " + std::to_string(value));
  }
  return static_cast<int>(value);
}

double JsonReader::number(const char* key, double fallback) const {
  const Json* value = find(key);
  if (value == nullptr) return fallback;
  if (!value->is_number()) {
    fail(path_of(key),
         std::string("must be a number, got ") + value->type_name());
  }
  return value->get<double>();
}

std::optional<TimePoint> JsonReader::time(const char* key) const {
  const std::string text = string(key);
  if (text.empty()) return std::nullopt;
  auto parsed = parse_time(text);
  if (!parsed) {
    fail(path_of(key), "is not an ISO-8601 UTC time: '" + text + "'");
  }
  return parsed;
}

std::optional<std::vector<std::string>> JsonReader::strings(
    const char* key) const {
  const Json* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_array()) {
    fail(path_of(key),
         std::string("must be an array of strings, got ") + value->type_name());
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    if (!item.is_string()) {
      fail(path_of(key) + "[" + std::to_string(i) + "]",
           std::string("must be a string, got ") + item.type_name());
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

Json JsonReader::object(const char* key) const {
  const Json* value = find(key);
  if (value == nullptr) return Json::object();
  if (!value->is_object()) {
    fail(path_of(key),
         std::string("must be an object, got ") + value->type_name());
  }
  return *value;
}

JsonReader JsonReader::child(const char* key) const {
  const Json* value = find(key);
  if (value == nullptr) fail(path_of(key), "is missing");
  return JsonReader(*value, what_, path_of(key));
}

const Json& JsonReader::array(const char* key) const {
  static const Json kEmpty = Json::array();
  const Json* value = find(key);
  if (value == nullptr) return kEmpty;
  if (!value->is_array()) {
    fail(path_of(key),
         std::string("must be an array, got ") + value->type_name());
  }
  return *value;
}

void JsonReader::only(std::initializer_list<std::string_view> known) const {
  for (const auto& item : value_.items()) {
    const std::string& key = item.key();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string accepted;
    for (std::string_view name : known) {
      accepted += (accepted.empty() ? "" : ", ") + std::string(name);
    }
    fail(path_of(key.c_str()),
         "is not a known key; the keys here are " + accepted);
  }
}

}  // namespace isoqube::detail
