#include "python_consumer.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include "convert.h"
#include "isoqube/consumer.h"
#include "isoqube/errors.h"
#include "isoqube/log.h"

namespace isoqube::bindings {
namespace {

using spdlog::level::level_enum;

// Owns a Python object on behalf of C++ code that may drop it on any thread,
// with or without the GIL.
class GilSafeObject {
 public:
  explicit GilSafeObject(py::object object) : object_(std::move(object)) {}
  GilSafeObject(const GilSafeObject&) = delete;
  GilSafeObject& operator=(const GilSafeObject&) = delete;
  ~GilSafeObject() {
    if (!interpreter_alive()) {
      // Decrementing now could run Python code in a dying interpreter; the
      // process is ending anyway, so the reference is leaked on purpose.
      object_.release();
      return;
    }
    py::gil_scoped_acquire gil;
    object_ = py::object();
  }
  const py::object& get() const { return object_; }

 private:
  py::object object_;
};

// The Python thread state of a worker thread, created on its first handler
// call and kept until the thread ends. Taking the GIL through a fresh thread
// state on every call (what gil_scoped_acquire does on a thread Python does
// not know) allocates one and, since Python 3.11, maps and unmaps its frame
// stack: an mmap/munmap pair per step whose TLB shootdowns stall every
// thread of the process.
class WorkerThreadState {
 public:
  // Needs the GIL released; returns with it released.
  WorkerThreadState() {
    // A new thread state, counted once by the PyGILState API, so the nested
    // acquires and releases of pybind11 on this thread reuse it instead of
    // deleting it when they end.
    PyGILState_Ensure();
    state_ = PyEval_SaveThread();
  }
  WorkerThreadState(const WorkerThreadState&) = delete;
  WorkerThreadState& operator=(const WorkerThreadState&) = delete;
  // Runs when the thread ends, with the GIL released (worker threads are
  // joined without it). Once the interpreter is finalizing the state is
  // leaked: taking the GIL then could block forever.
  ~WorkerThreadState() {
    if (!interpreter_alive()) return;
    PyEval_RestoreThread(state_);
    PyGILState_Release(PyGILState_UNLOCKED);
  }

  PyThreadState* get() const { return state_; }

 private:
  PyThreadState* state_;
};

// Holds the GIL for one handler call, through the thread's kept state on
// worker threads; on a thread Python already knows (one it created, or one
// holding the GIL), through pybind11 as usual.
class HandlerGil {
 public:
  HandlerGil() {
    thread_local std::optional<WorkerThreadState> worker_state;
    if (!worker_state && PyGILState_GetThisThreadState() != nullptr) {
      fallback_.emplace();
      return;
    }
    if (!worker_state) worker_state.emplace();
    state_ = worker_state->get();
    PyEval_RestoreThread(state_);
  }
  ~HandlerGil() {
    if (state_ != nullptr) PyEval_SaveThread();
  }
  HandlerGil(const HandlerGil&) = delete;
  HandlerGil& operator=(const HandlerGil&) = delete;

 private:
  PyThreadState* state_ = nullptr;
  std::optional<py::gil_scoped_acquire> fallback_;
};

// Runs a handler call in a new, empty contextvars context, as when every
// call had a thread state of its own: a ContextVar one handler sets does not
// leak into the next call on the same worker thread.
class EmptyContextVars {
 public:
  EmptyContextVars() : context_(PyContext_New()) {
    if (context_ == nullptr) throw py::error_already_set();
    if (PyContext_Enter(context_) != 0) {
      Py_DECREF(context_);
      throw py::error_already_set();
    }
  }
  ~EmptyContextVars() {
    // Fails only when the handler left a context of its own entered, which
    // contextvars' API cannot do; nothing to report then.
    if (PyContext_Exit(context_) != 0) PyErr_Clear();
    Py_DECREF(context_);
  }
  EmptyContextVars(const EmptyContextVars&) = delete;
  EmptyContextVars& operator=(const EmptyContextVars&) = delete;

 private:
  PyObject* context_;
};

// A logger for Python code, writing through an isoqube spdlog logger so
// Python and C++ lines interleave in one format on the same sinks.
class PyLogger {
 public:
  explicit PyLogger(std::shared_ptr<spdlog::logger> logger)
      : logger_(std::move(logger)) {}

  // `message % args` when args are given, as the logging module does.
  void log(level_enum level, const py::object& message, const py::args& args) {
    if (!logger_->should_log(level)) return;
    std::string text = args.empty()
                           ? py::str(message).cast<std::string>()
                           : py::str(message.attr("__mod__")(py::tuple(args)))
                                 .cast<std::string>();
    py::gil_scoped_release release;
    logger_->log(level, spdlog::string_view_t(text));
  }

  const std::string& name() const { return logger_->name(); }

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

// What a Python handler receives: a view of the core Context that is
// invalidated when the handler returns, so a Context kept by Python code
// raises instead of touching freed memory.
class PyContext {
 public:
  explicit PyContext(Context& context)
      : context_(&context), thread_(std::this_thread::get_id()) {}

  Context& get() const {
    if (context_ == nullptr) {
      throw Error(
          "this Context is no longer valid: its handler has returned (a "
          "Context may be used only during the handler call)");
    }
    if (std::this_thread::get_id() != thread_) {
      throw Error(
          "this Context may be used only on the thread running its handler");
    }
    return *context_;
  }
  void invalidate() { context_ = nullptr; }
  bool valid() const {
    return context_ != nullptr && std::this_thread::get_id() == thread_;
  }

  py::object payload() {
    return cached(payload_, [&] { return from_json(get().payload()); });
  }
  py::object inputs() {
    return cached(inputs_, [&] { return from_json(get().inputs()); });
  }
  py::object log() {
    return cached(log_, [&] {
      return py::cast(
          std::make_shared<PyLogger>(isoqube::logger(get().log().name())));
    });
  }

 private:
  template <typename Make>
  py::object cached(py::object& slot, Make make) {
    get();  // validity is checked on every access, cached or not
    if (!slot) slot = make();
    return slot;
  }

  Context* context_;
  const std::thread::id thread_;
  py::object payload_, inputs_, log_;
};

// Invalidates a PyContext when the handler call ends, however it ends.
class ContextScope {
 public:
  explicit ContextScope(PyContext& context) : context_(context) {}
  ~ContextScope() { context_.invalidate(); }
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;

 private:
  PyContext& context_;
};

std::string topic_name(py::handle topic) {
  if (py::isinstance<py::str>(topic)) return topic.cast<std::string>();
  if (py::hasattr(topic, "__isoqube_topic__")) {
    return topic.attr("__isoqube_topic__").attr("name").cast<std::string>();
  }
  throw py::type_error(
      "topic must be a topic name or a class decorated with "
      "@isoqube.topic, not " +
      std::string(Py_TYPE(topic.ptr())->tp_name));
}

// The traceback helps whoever debugs a consumer; the step's error keeps
// only "Type: message". Must not raise: it runs while reporting a failure.
void log_traceback(const std::string& consumer,
                   const py::error_already_set& error) {
  auto log = isoqube::logger("python");
  if (!log->should_log(spdlog::level::debug)) return;
  try {
    py::object trace = error.trace()
                           ? py::reinterpret_borrow<py::object>(error.trace())
                           : py::none();
    py::object lines =
        py::module_::import("traceback")
            .attr("format_exception")(error.type(), error.value(), trace);
    log->debug("consumer {} raised:\n{}", consumer,
               py::str("").attr("join")(lines).cast<std::string>());
  } catch (const std::exception&) {
    PyErr_Clear();
  }
}

Json call_handler(const GilSafeObject& function, const std::string& consumer,
                  Context& context) {
  HandlerGil gil;
  EmptyContextVars context_vars;
  auto py_context = std::make_shared<PyContext>(context);
  ContextScope scope(*py_context);
  py::object result;
  try {
    result = function.get()(py_context);
  } catch (const py::error_already_set& error) {
    log_traceback(consumer, error);
    throw std::runtime_error(describe(error));
  }
  try {
    return to_json(result);
  } catch (const py::type_error& error) {
    throw std::runtime_error(
        "TypeError: consumer " + consumer +
        " returned a value that is not JSON: " + error.what());
  } catch (const py::value_error& error) {
    throw std::runtime_error(
        "ValueError: consumer " + consumer +
        " returned a value that is not JSON: " + error.what());
  } catch (const py::error_already_set& error) {
    throw std::runtime_error(describe(error));
  }
}

void bind_logger(py::module_& m) {
  py::class_<PyLogger, std::shared_ptr<PyLogger>> logger(
      m, "Logger",
      "An isoqube logger (spdlog). Methods take a message and optional "
      "%-style arguments, like the logging module.");
  const std::pair<const char*, level_enum> levels[] = {
      {"trace", level_enum::trace},      {"debug", level_enum::debug},
      {"info", level_enum::info},        {"warning", level_enum::warn},
      {"warn", level_enum::warn},        {"error", level_enum::err},
      {"critical", level_enum::critical}};
  for (const auto& [method, level] : levels) {
    logger.def(
        method,
        [level = level](PyLogger& self, const py::object& message,
                        const py::args& args) {
          self.log(level, message, args);
        },
        py::arg("message"));
  }
  logger.def_property_readonly("name", &PyLogger::name)
      .def("__repr__", [](const PyLogger& self) {
        return "<isoqube Logger " + self.name() + ">";
      });
  m.def(
      "logger",
      [](const std::string& name) {
        return std::make_shared<PyLogger>(isoqube::logger(name));
      },
      py::arg("name"),
      "The isoqube logger 'isoqube.<name>' (or `name` when it already starts "
      "with 'isoqube.').");
}

template <typename T>
auto field(T (Context::*getter)() const) {
  return [getter](PyContext& self) { return (self.get().*getter)(); };
}

void bind_context(py::module_& m) {
  py::class_<PyContext, std::shared_ptr<PyContext>>(
      m, "Context",
      "What a Python consumer knows about the message it handles (reference: "
      "docs/context.md). Valid only during the handler call, on the thread "
      "running it: afterwards every attribute raises isoqube.errors.Error.")
      .def_property_readonly("run_id", field(&Context::run_id),
                             "The run's id; \"\" outside a run (a topic "
                             "published on its own).")
      .def_property_readonly("ingestion_id", field(&Context::ingestion_id),
                             "The run's ingestion id; a topic published from "
                             "a handler carries its handler's.")
      .def_property_readonly("step", field(&Context::step),
                             "The step's name; \"\" outside a run.")
      .def_property_readonly("topic", field(&Context::topic))
      .def_property_readonly("consumer", field(&Context::consumer))
      .def_property_readonly("attempt", field(&Context::attempt),
                             "1 for the step's first attempt, 2 for the first "
                             "retry, ...")
      .def_property_readonly("payload", &PyContext::payload,
                             "The run's payload with the step's own on top: a "
                             "key in both takes the step's value, whole (no "
                             "deep merge).")
      .def_property_readonly("inputs", &PyContext::inputs,
                             "Outputs of the steps this one waits for (its "
                             "'after'; by default the step before), by step "
                             "name, and only those.")
      .def_property_readonly("log", &PyContext::log,
                             "The isoqube logger of the consumer's service.")
      .def_property_readonly(
          "cancelled",
          [](PyContext& self) {
            Context& context = self.get();
            py::gil_scoped_release release;
            return context.cancelled();
          },
          "True once the run was cancelled. Nothing interrupts a handler: a "
          "long one polls this and returns.")
      .def(
          "publish",
          [](PyContext& self, const py::object& topic,
             const py::object& payload) {
            Context& context = self.get();
            std::string name = topic_name(topic);
            Json body = payload_to_json(payload);
            py::gil_scoped_release release;
            context.publish(name, std::move(body));
          },
          py::arg("topic"), py::arg("payload") = py::none(),
          "Publishes a topic outside run tracking; blocks (without the GIL) "
          "until the transport has it.")
      .def("__repr__", [](PyContext& self) -> std::string {
        if (!self.valid()) return "<isoqube Context (no longer valid)>";
        Context& c = self.get();
        return "<isoqube Context consumer=" + c.consumer() +
               " topic=" + c.topic() + " run_id=" + c.run_id() +
               " step=" + c.step() + " attempt=" + std::to_string(c.attempt()) +
               ">";
      });
}

}  // namespace

Handler python_handler(py::function function, std::string consumer_name) {
  auto holder = std::make_shared<GilSafeObject>(std::move(function));
  return
      [holder, consumer = std::move(consumer_name)](Context& context) -> Json {
        if (!interpreter_alive()) {
          throw std::runtime_error(
              "RuntimeError: the Python interpreter is shutting down");
        }
        return call_handler(*holder, consumer, context);
      };
}

void bind_consumer(py::module_& m) {
  bind_logger(m);
  bind_context(m);
}

}  // namespace isoqube::bindings
