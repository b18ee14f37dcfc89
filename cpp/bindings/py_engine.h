// The core engine as the bindings hold it, and the helpers every Engine
// method uses to run without the GIL. Internal to cpp/bindings.
#pragma once

#include <pybind11/pybind11.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "isoqube/engine.h"
#include "isoqube/errors.h"

namespace isoqube::bindings {

namespace py = pybind11;

// Blocking calls wait in slices this long, taking the GIL back between
// slices to let Python deliver signals (Ctrl-C) to the main thread.
constexpr std::chrono::milliseconds kSlice{200};

using SteadyClock = std::chrono::steady_clock;

// A reference to the core engine held for one call. Dropping the last one
// destroys the engine, which stops its worker: that must happen without the
// GIL, because pool threads may be waiting for it to finish Python handlers.
class EngineRef {
 public:
  explicit EngineRef(std::shared_ptr<Engine> engine)
      : engine_(std::move(engine)) {}
  ~EngineRef() { reset(); }
  EngineRef(EngineRef&&) = default;
  EngineRef(const EngineRef&) = delete;
  EngineRef& operator=(const EngineRef&) = delete;

  Engine& operator*() const { return *engine_; }
  Engine* operator->() const { return engine_.get(); }
  explicit operator bool() const { return engine_ != nullptr; }

  void reset() {
    if (engine_.use_count() == 1 && Py_IsInitialized() && PyGILState_Check()) {
      py::gil_scoped_release release;
      engine_.reset();
    } else {
      engine_.reset();
    }
  }

 private:
  std::shared_ptr<Engine> engine_;
};

// Owns the core engine. Calls run on an EngineRef, so close() from another
// thread cannot free the engine under a call that released the GIL.
class PyEngine {
 public:
  explicit PyEngine(EngineOptions options)
      : engine_(std::make_shared<Engine>(std::move(options))) {}
  ~PyEngine() { close(); }
  PyEngine(const PyEngine&) = delete;
  PyEngine& operator=(const PyEngine&) = delete;

  EngineRef engine() const {
    if (!engine_) throw Error("this engine is closed");
    return EngineRef(engine_);
  }

  void close() { EngineRef(std::move(engine_)).reset(); }
  bool closed() const { return engine_ == nullptr; }

 private:
  std::shared_ptr<Engine> engine_;
};

// Calls f(engine) without the GIL.
template <typename F>
auto without_gil(const PyEngine& self, F&& f) {
  EngineRef engine = self.engine();
  py::gil_scoped_release release;
  return f(*engine);
}

// Repeats `attempt(slice)` without the GIL until it yields a value or
// `timeout` (nullopt: none) has passed, checking for signals between slices.
// `attempt` returns nullopt when its slice ran out.
template <typename T, typename Attempt>
std::optional<T> in_slices(std::optional<std::chrono::milliseconds> timeout,
                           Attempt&& attempt) {
  const auto deadline =
      timeout ? SteadyClock::now() + *timeout : SteadyClock::time_point::max();
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - SteadyClock::now());
    auto slice = std::max(std::chrono::milliseconds(0), std::min(left, kSlice));
    std::optional<T> value;
    {
      py::gil_scoped_release release;
      value = attempt(slice);
    }
    if (value || SteadyClock::now() >= deadline) return value;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  }
}

// Binds EventStream, and Engine's publish, subscribe, unsubscribe and
// event_log (event_binding.cc).
void bind_event_stream(py::module_& m);
void bind_messaging(py::class_<PyEngine>& engine);

}  // namespace isoqube::bindings
