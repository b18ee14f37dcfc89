// Binds isoqube._core.Engine and EventStream.
//
// GIL: every call that may block (construction, start, stop, close, runs,
// publishes, waits, reading events) runs without the GIL; waits give it back
// briefly every 200 ms to let Python deliver signals such as Ctrl-C.
#pragma once

#include <pybind11/pybind11.h>

namespace isoqube::bindings {

void bind_engine(pybind11::module_& m);

}  // namespace isoqube::bindings
