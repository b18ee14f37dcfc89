#include "model_objects.h"

#include <datetime.h>
#include <pybind11/gil_safe_call_once.h>

#include <array>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "convert.h"

namespace isoqube::bindings {
namespace {

// Attributes set on the model objects, named as in isoqube/model.py.
enum Field {
  kId,
  kConfigurationId,
  kConfigurationName,
  kDescription,
  kIngestionId,
  kStatus,
  kCreatedOn,
  kModifiedOn,
  kError,
  kPayload,
  kSteps,
  kName,
  kTopic,
  kAfter,
  kAttempts,
  kInvokedOn,
  kCompletedOn,
  kSucceededOn,
  kFailedOn,
  kRetriedOn,
  kCancelledOn,
  kOutput,
  kRetry,
  kInterval,
  kBackoff,
  kFieldCount
};

constexpr const char* kFieldNames[kFieldCount] = {"id",
                                                  "configuration_id",
                                                  "configuration_name",
                                                  "description",
                                                  "ingestion_id",
                                                  "status",
                                                  "created_on",
                                                  "modified_on",
                                                  "error",
                                                  "payload",
                                                  "steps",
                                                  "name",
                                                  "topic",
                                                  "after",
                                                  "attempts",
                                                  "invoked_on",
                                                  "completed_on",
                                                  "succeeded_on",
                                                  "failed_on",
                                                  "retried_on",
                                                  "cancelled_on",
                                                  "output",
                                                  "retry",
                                                  "interval",
                                                  "backoff"};

constexpr RunStatus kRunStatuses[] = {RunStatus::kPending, RunStatus::kRunning,
                                      RunStatus::kCompleted, RunStatus::kFailed,
                                      RunStatus::kCancelled};
constexpr StepStatus kStepStatuses[] = {
    StepStatus::kPending,  StepStatus::kQueued,    StepStatus::kRunning,
    StepStatus::kRetrying, StepStatus::kCompleted, StepStatus::kFailed,
    StepStatus::kCancelled};

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// What the builders need from Python, made once. Never released: objects
// may be built until the interpreter ends.
struct Model {
  PyTypeObject* run;
  PyTypeObject* step_state;
  PyTypeObject* retry_policy;
  PyObject* no_args;                         // ()
  PyObject* epoch;                           // 1970-01-01 00:00:00 UTC
  std::array<PyObject*, kFieldCount> names;  // interned
  std::array<PyObject*, std::size(kRunStatuses)> run_statuses;
  std::array<PyObject*, std::size(kStepStatuses)> step_statuses;
};

PyObject* interned(std::string_view text) {
  PyObject* name = PyUnicode_FromStringAndSize(
      text.data(), static_cast<Py_ssize_t>(text.size()));
  if (name == nullptr) throw py::error_already_set();
  PyUnicode_InternInPlace(&name);
  return name;
}

PyTypeObject* model_class(const py::module_& module, const char* name) {
  py::object type = module.attr(name);
  if (!PyType_Check(type.ptr())) {
    throw py::type_error(std::string("isoqube.model.") + name +
                         " is not a class");
  }
  return reinterpret_cast<PyTypeObject*>(type.release().ptr());
}

Model load_model() {
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) throw py::error_already_set();
  py::module_ module = py::module_::import("isoqube.model");
  Model m{};
  m.run = model_class(module, "Run");
  m.step_state = model_class(module, "StepState");
  m.retry_policy = model_class(module, "RetryPolicy");
  m.no_args = py::tuple().release().ptr();
  m.epoch = PyDateTimeAPI->DateTime_FromDateAndTime(
      1970, 1, 1, 0, 0, 0, 0, PyDateTime_TimeZone_UTC,
      PyDateTimeAPI->DateTimeType);
  if (m.epoch == nullptr) throw py::error_already_set();
  for (int i = 0; i < kFieldCount; ++i) m.names[i] = interned(kFieldNames[i]);
  for (std::size_t i = 0; i < m.run_statuses.size(); ++i) {
    m.run_statuses[i] = interned(to_string(kRunStatuses[i]));
  }
  for (std::size_t i = 0; i < m.step_statuses.size(); ++i) {
    m.step_statuses[i] = interned(to_string(kStepStatuses[i]));
  }
  return m;
}

const Model& model() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<Model> storage;
  return storage.call_once_and_store_result(load_model).get_stored();
}

// An instance of `type` made without calling its __init__, as pickle does.
py::object blank(PyTypeObject* type) {
  PyObject* object = type->tp_new(type, model().no_args, nullptr);
  if (object == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(object);
}

// Generic setattr: also right for frozen dataclasses, whose __setattr__
// refuses every assignment.
void set(const py::object& object, Field field, const py::object& value) {
  if (PyObject_GenericSetAttr(object.ptr(), model().names[field],
                              value.ptr()) != 0) {
    throw py::error_already_set();
  }
}

py::object text(const std::string& value) {
  // Text built by C++ code is not guaranteed to be valid UTF-8.
  PyObject* decoded = PyUnicode_DecodeUTF8(
      value.data(), static_cast<Py_ssize_t>(value.size()), "replace");
  if (decoded == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(decoded);
}

template <typename Status, std::size_t N>
py::object status_text(Status status, const std::array<PyObject*, N>& texts,
                       const Status (&statuses)[N]) {
  for (std::size_t i = 0; i < N; ++i) {
    if (statuses[i] == status) {
      return py::reinterpret_borrow<py::object>(texts[i]);
    }
  }
  return text(std::string(to_string(status)));
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

// The aware UTC datetime of `t`, as parse_time(format_time(t)) gives it.
py::object datetime(TimePoint t) {
  const Model& m = model();  // also what makes PyDateTimeAPI usable
  const int64_t micros = to_micros(t);
  const int64_t days = floor_div(micros, kMicrosPerDay);
  const int64_t rest = micros - days * kMicrosPerDay;
  PyObject* delta = PyDateTimeAPI->Delta_FromDelta(
      static_cast<int>(days), static_cast<int>(rest / kMicrosPerSecond),
      static_cast<int>(rest % kMicrosPerSecond), 1, PyDateTimeAPI->DeltaType);
  if (delta == nullptr) throw py::error_already_set();
  PyObject* moment = PyNumber_Add(m.epoch, delta);
  Py_DECREF(delta);
  if (moment == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(moment);
}

py::object datetime(const std::optional<TimePoint>& t) {
  return t ? datetime(*t) : py::none();
}

// payload=dict(data.get("payload") or {}) in model.py.
py::object payload_dict(const Json& payload) {
  return payload.is_object() ? from_json(payload) : py::dict();
}

py::object retry_to_model(const RetryPolicy& retry) {
  py::object policy = blank(model().retry_policy);
  set(policy, kAttempts, py::int_(retry.attempts));
  set(policy, kInterval,
      py::float_(static_cast<double>(retry.interval.count()) / 1000.0));
  set(policy, kBackoff, py::float_(retry.backoff));
  return policy;
}

py::object after_list(const std::optional<std::vector<std::string>>& after) {
  if (!after) return py::none();
  py::list names(after->size());
  for (std::size_t i = 0; i < after->size(); ++i) names[i] = text((*after)[i]);
  return std::move(names);
}

py::object step_to_model(const Step& step) {
  const Model& m = model();
  py::object state = blank(m.step_state);
  const StepSpec& spec = step.spec;
  set(state, kName, text(spec.name.empty() ? spec.topic : spec.name));
  set(state, kTopic, text(spec.topic));
  set(state, kAfter, after_list(spec.after));
  set(state, kStatus, status_text(step.status, m.step_statuses, kStepStatuses));
  set(state, kAttempts, py::int_(step.attempts));
  set(state, kInvokedOn, datetime(step.invoked_on));
  set(state, kCompletedOn, datetime(step.completed_on));
  set(state, kSucceededOn, datetime(step.succeeded_on));
  set(state, kFailedOn, datetime(step.failed_on));
  set(state, kRetriedOn, datetime(step.retried_on));
  set(state, kCancelledOn, datetime(step.cancelled_on));
  set(state, kError, text(step.error));
  set(state, kOutput, from_json(step.output));
  set(state, kRetry, retry_to_model(spec.retry));
  set(state, kPayload, payload_dict(spec.payload));
  return state;
}

}  // namespace

py::object run_to_model(const Run& run) {
  const Model& m = model();
  py::list steps(run.steps.size());
  for (std::size_t i = 0; i < run.steps.size(); ++i) {
    steps[i] = step_to_model(run.steps[i]);
  }
  py::object object = blank(m.run);
  set(object, kId, text(run.id));
  set(object, kConfigurationId, text(run.configuration_id));
  set(object, kConfigurationName, text(run.configuration_name));
  set(object, kDescription, text(run.description));
  set(object, kIngestionId, text(run.ingestion_id));
  set(object, kStatus, status_text(run.status, m.run_statuses, kRunStatuses));
  set(object, kCreatedOn, datetime(run.created_on));
  set(object, kModifiedOn, datetime(run.modified_on));
  set(object, kError, text(run.error));
  set(object, kPayload, payload_dict(run.payload));
  set(object, kSteps, steps);
  return object;
}

}  // namespace isoqube::bindings
