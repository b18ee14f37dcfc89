// isoqube._core: the pybind11 module. Thin by design (docs/architecture.md):
// it converts types, releases and takes the GIL, and translates exceptions;
// everything else lives in the core or in the isoqube Python package.
#include <pybind11/pybind11.h>

#include <exception>
#include <string>

#include "convert.h"
#include "engine_binding.h"
#include "isoqube/configuration.h"
#include "isoqube/errors.h"
#include "isoqube/log.h"
#include "isoqube/registry.h"
#include "log_binding.h"
#include "python_consumer.h"

namespace py = pybind11;

namespace isoqube::bindings {
namespace {

// The isoqube.errors classes, kept for the life of the process: the
// translator may run until the very end, so they are never released.
struct ErrorClasses {
  PyObject* error;
  PyObject* configuration;
  PyObject* registration;
  PyObject* not_found;
  PyObject* message;
  PyObject* transport;
  PyObject* store;
  PyObject* module;
  PyObject* timeout;
};

ErrorClasses& error_classes() {
  static ErrorClasses classes{};
  return classes;
}

void register_errors() {
  py::module_ errors = py::module_::import("isoqube.errors");
  auto load = [&](const char* name) -> PyObject* {
    return py::object(errors.attr(name)).release().ptr();
  };
  error_classes() = ErrorClasses{load("Error"),
                                 load("ConfigurationError"),
                                 load("RegistrationError"),
                                 load("NotFoundError"),
                                 load("MessageError"),
                                 load("TransportError"),
                                 load("StoreError"),
                                 load("ModuleError"),
                                 load("TimeoutError")};
  py::register_exception_translator([](std::exception_ptr error) {
    const ErrorClasses& c = error_classes();
    try {
      if (error) std::rethrow_exception(error);
    } catch (const ConfigurationError& e) {
      // With its field and problem as attributes (isoqube.errors).
      PyObject* instance = PyObject_CallFunction(
          c.configuration, "sss", e.what(),
          e.field().empty() ? nullptr : e.field().c_str(), e.problem().c_str());
      if (instance == nullptr) return;  // the call's own error is set
      PyErr_SetObject(c.configuration, instance);
      Py_DECREF(instance);
    } catch (const RegistrationError& e) {
      PyErr_SetString(c.registration, e.what());
    } catch (const NotFoundError& e) {
      PyErr_SetString(c.not_found, e.what());
    } catch (const MessageError& e) {
      PyErr_SetString(c.message, e.what());
    } catch (const TransportError& e) {
      PyErr_SetString(c.transport, e.what());
    } catch (const StoreError& e) {
      PyErr_SetString(c.store, e.what());
    } catch (const ModuleError& e) {
      PyErr_SetString(c.module, e.what());
    } catch (const TimeoutError& e) {
      PyErr_SetString(c.timeout, e.what());
    } catch (const Error& e) {
      PyErr_SetString(c.error, e.what());
    }
  });
}

// Throws each C++ exception by name, so tests can check the translation.
void raise_error(const std::string& kind, const std::string& message) {
  if (kind == "Error") throw Error(message);
  if (kind == "ConfigurationError") throw ConfigurationError(message);
  if (kind == "RegistrationError") throw RegistrationError(message);
  if (kind == "NotFoundError") throw NotFoundError(message);
  if (kind == "MessageError") throw MessageError(message);
  if (kind == "TransportError") throw TransportError(message);
  if (kind == "StoreError") throw StoreError(message);
  if (kind == "ModuleError") throw ModuleError(message);
  if (kind == "TimeoutError") throw TimeoutError(message);
  throw py::value_error("unknown isoqube error class '" + kind + "'");
}

void bind_functions(py::module_& m) {
  m.def(
      "set_log_level", [](const std::string& level) { set_log_level(level); },
      py::arg("level"),
      "Sets the level of every isoqube logger: trace, debug, info, warning, "
      "error, critical or off. Raises ConfigurationError on another word.");
  m.def("log_level", [] { return std::string(log_level()); });
  m.def(
      "kebab_case", [](const std::string& name) { return kebab_case(name); },
      py::arg("name"),
      "'DefaultSourceIngestion' -> 'default-source-ingestion'.");
  m.def(
      "endpoint_name",
      [](const std::string& consumer) { return endpoint_name(consumer); },
      py::arg("consumer"),
      "Default queue of a consumer: kebab-case, without a trailing "
      "'Consumer'.");
  m.def(
      "normalize_configuration",
      [](const py::dict& config) {
        return from_json(to_json(
            normalize(configuration_from_json(to_json(config)), nullptr)));
      },
      py::arg("configuration"),
      "Fills a configuration's defaults and checks it (topics are not "
      "checked). Raises ConfigurationError naming the first problem.");
  m.def(
      "to_json_value",
      [](const py::handle& value) { return from_json(to_json(value)); },
      py::arg("value"),
      "The value converted to JSON and back: what a consumer's return "
      "value becomes. Raises TypeError / ValueError as a consumer's "
      "non-JSON return value would.");
  m.def("_raise_error", &raise_error, py::arg("kind"), py::arg("message"));
}

}  // namespace
}  // namespace isoqube::bindings

PYBIND11_MODULE(_core, m) {
  m.doc() = "The compiled core of isoqube. Use the isoqube package instead.";
  m.attr("__version__") = ISOQUBE_VERSION;
  isoqube::bindings::register_errors();
  isoqube::bindings::bind_functions(m);
  isoqube::bindings::bind_consumer(m);
  isoqube::bindings::bind_engine(m);
  isoqube::bindings::bind_log_collection(m);
}
