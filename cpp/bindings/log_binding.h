// Binds isoqube._core.LogCollection and send_logs_to
// (isoqube/log_collection.h).
//
// GIL: opening, flushing and closing (which flushes) run without it. The
// collection's sink runs on the logging threads and never touches Python.
#pragma once

#include <pybind11/pybind11.h>

namespace isoqube::bindings {

void bind_log_collection(pybind11::module_& m);

}  // namespace isoqube::bindings
