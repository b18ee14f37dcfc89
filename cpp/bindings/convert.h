// Conversions between Python objects and the core's values, done directly on
// the objects (no JSON text in between). Every function here needs the GIL.
#pragma once

#include <pybind11/pybind11.h>

#include <chrono>
#include <optional>
#include <string>

#include "isoqube/json.h"
#include "isoqube/registry.h"

namespace isoqube::bindings {

namespace py = pybind11;

// dict (str keys), list, tuple, str, int, float, bool and None, nested.
// Throws py::type_error naming the offending type and where it sits
// ("set at $.files[2]"), py::value_error for nan/inf floats, ints beyond 64
// bits and arrays and objects nested deeper than kMaxJsonDepth (json.h),
// which also stops a list that contains itself.
Json to_json(py::handle value);

// The Python value of `value`: dicts, lists, str, int, float, bool, None.
py::object from_json(const Json& value);

// A payload argument: None gives an empty object; anything but a dict
// throws py::type_error naming its type.
Json payload_to_json(py::handle payload);

// "ExceptionType: message" of a Python exception, the form the core records
// as a step's error.
std::string describe(const py::error_already_set& error);

// A Python timeout in seconds (None: forever) as a duration; throws
// ConfigurationError when negative or not a number.
std::optional<std::chrono::milliseconds> to_timeout(
    std::optional<double> seconds);

py::dict topic_to_dict(const Topic& topic);
py::dict consumer_to_dict(const Consumer& consumer);

// False once the interpreter is finalizing or gone: then no Python code may
// run and Python objects must be leaked instead of released.
bool interpreter_alive();

}  // namespace isoqube::bindings
