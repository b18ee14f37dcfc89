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

namespace isoqube {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An invalid configuration, option, URI or argument given by the caller.
class ConfigurationError : public Error {
 public:
  using Error::Error;
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
