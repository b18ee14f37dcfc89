// Runs as isoqube.model objects (Run, StepState, RetryPolicy), built straight
// from the core's values. This is the hot path of start_run() and wait():
// going through the JSON form (to_json, dicts, then from_dict parsing every
// time text back in Python) cost more GIL time than the run's handlers.
// Internal to cpp/bindings; every function here needs the GIL.
#pragma once

#include <pybind11/pybind11.h>

#include "isoqube/run.h"

namespace isoqube::bindings {

namespace py = pybind11;

// An isoqube.model.Run equal to Run.from_dict(<the core's to_json(run)>):
// aware UTC datetimes, lowercase statuses, steps as StepState objects.
// Builds the objects without running their __init__.
py::object run_to_model(const Run& run);

}  // namespace isoqube::bindings
