// Consumers written in Python: the adapter that turns a Python callable into
// a core Handler, and the Context and Logger classes Python handlers see.
//
// GIL: handlers run on the worker's C++ threads and hold the GIL only while
// Python code runs and while values are converted. The Python callable is
// owned by a holder that releases it with the GIL held (or leaks it once the
// interpreter is gone), because the core may drop a handler on any thread.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "isoqube/registry.h"

namespace isoqube::bindings {

namespace py = pybind11;

// A Handler calling `function(ctx)`. A Python exception becomes a
// std::runtime_error carrying "ExceptionType: message"; a return value that
// is not JSON becomes one carrying "TypeError: consumer <name> returned ...".
Handler python_handler(py::function function, std::string consumer_name);

// Binds Context (valid only during its handler call, on the calling thread;
// afterwards every accessor raises isoqube.errors.Error) and Logger.
void bind_consumer(py::module_& m);

}  // namespace isoqube::bindings
