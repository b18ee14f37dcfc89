// Typed reads of JSON objects for the *_from_json functions of
// configuration.h and run.h. Internal to the core.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/configuration.h"
#include "isoqube/json.h"
#include "isoqube/time.h"

namespace isoqube::detail {

// Reads fields of one JSON object. Every failure throws ConfigurationError
// naming the thing being read and the field's path, e.g.
// "invalid configuration 'build': 'steps[2].retry.attempts' must be an
// integer, got string". Absent and null fields read as "not given".
// Holds a reference: `value` must outlive the reader.
class JsonReader {
 public:
  // Throws unless `value` is an object. `what` names the document
  // ("configuration 'build'", "run 7f3c..."), `path` this object within it.
  JsonReader(const Json& value, std::string what, std::string path = "");

  // Null when absent or null.
  const Json* find(const char* key) const;
  bool has(const char* key) const { return find(key) != nullptr; }

  std::string string(const char* key) const;  // "" when not given
  std::string required_string(const char* key) const;
  int integer(const char* key, int fallback) const;
  int64_t integer64(const char* key, int64_t fallback) const;
  double number(const char* key, double fallback) const;
  std::optional<TimePoint> time(const char* key) const;
  std::optional<std::vector<std::string>> strings(const char* key) const;
  // An object field, {} when not given.
  Json object(const char* key) const;
  // A nested object; throws when it is not one.
  JsonReader child(const char* key) const;
  // An array field (empty when not given), elements named "key[i]".
  const Json& array(const char* key) const;
  // Throws naming the first key of the object that is not one of `known`
  // (even with a null value), and listing those that are: a misspelt key
  // is an error, never silently a default.
  void only(std::initializer_list<std::string_view> known) const;

  std::string path_of(const char* key) const;
  const std::string& what() const { return what_; }
  [[noreturn]] void fail(const std::string& path,
                         const std::string& problem) const;

 private:
  const Json& value_;
  std::string what_;
  std::string path_;
};

// A step from its to_json() form, or from the shorthand "TopicName".
// Defined in configuration.cc; run.cc reads a step's spec with it too.
StepSpec read_step_spec(const Json& value, const std::string& what,
                        const std::string& path);

}  // namespace isoqube::detail
