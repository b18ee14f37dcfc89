// Exceptions of the public C++ API. Each maps one to one onto a Python
// exception of the same name in isoqube.errors.
//
// Policy: exceptions are for mistakes and failures (bad input, unreachable
// servers); normal outcomes such as "not found" or "already completed" are
// return values. Nothing is thrown across threads: failures on worker threads
// are recorded on the step and logged.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace isoqube {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An invalid configuration, option, URI or argument given by the caller.
// An error about one field of a configuration carries that field's path and
// what is wrong with it as data, for showing the problem next to the field:
// field() is the path ("steps[2].retry.attempts", "topics[0].name",
// "name"), empty when the error is about no one field; problem() is the
// message without the configuration it is about ("'steps[2].retry.attempts'
// must be an integer, got string"). Reading JSON (configuration_from_json)
// names the field in the document as given; normalize() in the shape
// to_json() writes, which is the document's unless it gave only the seed's
// `topics` (then steps[i] is topics[i], its topic the entry's name).
class ConfigurationError : public Error {
 public:
  explicit ConfigurationError(const std::string& message)
      : Error(message), problem_(message) {}
  ConfigurationError(const std::string& message, std::string field,
                     std::string problem)
      : Error(message),
        field_(std::move(field)),
        problem_(std::move(problem)) {}

  const std::string& field() const noexcept { return field_; }
  const std::string& problem() const noexcept { return problem_; }

 private:
  std::string field_;
  std::string problem_;
};

// A topic or consumer that cannot be registered (bad name, duplicate).
class RegistrationError : public Error {
 public:
  using Error::Error;
};

// A named configuration, run or topic that does not exist.
class NotFoundError : public Error {
 public:
  using Error::Error;
};

// A message that cannot be decoded, or is too large.
class MessageError : public Error {
 public:
  using Error::Error;
};

// The transport (broker) failed or is unreachable.
class TransportError : public Error {
 public:
  using Error::Error;
};

// The store (database) failed or is unreachable.
class StoreError : public Error {
 public:
  using Error::Error;
};

// A C++ consumer module could not be loaded.
class ModuleError : public Error {
 public:
  using Error::Error;
};

// A wait ran out of time.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

}  // namespace isoqube
