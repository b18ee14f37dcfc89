// The Engine class of isoqube._core: lifetime, registration,
// configurations and runs. Configurations cross as dicts in the camelCase
// form the core's to_json() writes, which isoqube/model.py turns into
// dataclasses; runs, the hot path, cross as isoqube.model.Run objects built
// directly (model_objects.h).
#include "engine_binding.h"

#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "convert.h"
#include "isoqube/engine.h"
#include "isoqube/errors.h"
#include "model_objects.h"
#include "py_engine.h"
#include "python_consumer.h"

namespace isoqube::bindings {
namespace {

py::object run_to_py(const Run& run) { return run_to_model(run); }
py::object config_to_py(const Configuration& config) {
  return from_json(to_json(config));
}

Configuration config_from_py(const py::handle& config) {
  if (!py::isinstance<py::dict>(config)) {
    throw py::type_error("a configuration must be a dict, not " +
                         std::string(Py_TYPE(config.ptr())->tp_name));
  }
  return configuration_from_json(to_json(config));
}

void require_not_started(Engine& engine, const std::string& what) {
  if (engine.started()) {
    throw RegistrationError("cannot register " + what +
                            ": the engine is started; register topics and "
                            "consumers before start()");
  }
}

py::object wait_for_run(const PyEngine& self, const std::string& run_id,
                        std::optional<double> timeout_seconds) {
  auto timeout = to_timeout(timeout_seconds);
  EngineRef engine = self.engine();
  auto run = in_slices<Run>(timeout, [&](std::chrono::milliseconds slice) {
    try {
      return std::optional<Run>(engine->wait(run_id, slice));
    } catch (const TimeoutError&) {
      return std::optional<Run>();
    }
  });
  if (run) return run_to_py(*run);
  std::optional<Run> last;
  {
    py::gil_scoped_release release;
    last = engine->find_run(run_id);
  }
  throw TimeoutError(
      "run " + run_id + " is still " +
      (last ? std::string(to_string(last->status)) : "unknown") + " after " +
      py::repr(py::float_(*timeout_seconds)).cast<std::string>() + " s");
}

void bind_registration(py::class_<PyEngine>& engine) {
  engine
      .def(
          "add_topic",
          [](PyEngine& self, const std::string& name,
             const std::string& description, const std::string& entity_name,
             const std::string& ns, const py::object& schema) {
            Topic topic;
            topic.name = name;
            topic.description = description;
            topic.entity_name = entity_name;
            topic.ns = ns;
            topic.schema = to_json(schema);
            auto e = self.engine();
            require_not_started(*e, "topic '" + name + "'");
            e->registry().add_topic(std::move(topic));
          },
          py::arg("name"), py::arg("description") = "",
          py::arg("entity_name") = "", py::arg("namespace") = "Isoqube.Topics",
          py::arg("schema") = py::none())
      .def(
          "add_consumer",
          [](PyEngine& self, const std::string& name, const std::string& topic,
             py::function handler, const std::string& service,
             const std::string& endpoint, const std::string& origin) {
            Consumer consumer;
            consumer.name = name;
            consumer.topic = topic;
            consumer.service = service;
            consumer.endpoint = endpoint;
            consumer.origin = origin;
            consumer.handler = python_handler(std::move(handler), name);
            auto e = self.engine();
            require_not_started(*e, "consumer '" + name + "'");
            e->registry().add_consumer(std::move(consumer));
          },
          py::arg("name"), py::arg("topic"), py::arg("handler"),
          py::arg("service") = "default", py::arg("endpoint") = "",
          py::arg("origin") = "")
      .def(
          "load_module",
          [](PyEngine& self, const std::string& path) {
            // A started engine restarts its worker (Engine::load_module).
            auto e = self.engine();
            py::gil_scoped_release release;
            e->load_module(path);
          },
          py::arg("path"))
      .def("topics",
           [](PyEngine& self) {
             py::list out;
             for (const Topic& t : self.engine()->registry().topics()) {
               out.append(topic_to_dict(t));
             }
             return out;
           })
      .def("stored_topics",
           [](PyEngine& self) {
             auto e = self.engine();
             std::vector<Topic> topics;
             {
               py::gil_scoped_release release;
               topics = e->store().list_topics();
             }
             py::list out;
             for (const Topic& t : topics) out.append(topic_to_dict(t));
             return out;
           })
      .def("consumers", [](PyEngine& self) {
        py::list out;
        for (const Consumer* c : self.engine()->registry().consumers()) {
          out.append(consumer_to_dict(*c));
        }
        return out;
      });
}

void bind_lifecycle(py::class_<PyEngine>& engine) {
  engine
      .def(py::init([](const std::string& transport, const std::string& store,
                       int concurrency, std::vector<std::string> services,
                       bool register_static) {
             EngineOptions options;
             options.transport = transport;
             options.store = store;
             options.concurrency = concurrency;
             options.services = std::move(services);
             options.register_static = register_static;
             py::gil_scoped_release release;
             return std::make_unique<PyEngine>(std::move(options));
           }),
           py::arg("transport") = "", py::arg("store") = "",
           py::arg("concurrency") = 4,
           py::arg("services") = std::vector<std::string>{},
           py::arg("register_static") = true)
      .def_property_readonly(
          "transport_uri",
          [](PyEngine& self) { return self.engine()->transport_uri(); })
      .def_property_readonly(
          "store_uri",
          [](PyEngine& self) { return self.engine()->store_uri(); })
      .def_property_readonly("distributed",
                             [](PyEngine& self) {
                               return self.engine()->transport().distributed();
                             })
      .def("start",
           [](PyEngine& self) {
             without_gil(self, [](Engine& e) { e.start(); });
           })
      .def("stop",
           [](PyEngine& self) {
             without_gil(self, [](Engine& e) { e.stop(); });
           })
      .def("close", &PyEngine::close,
           "Stops the worker and closes transport and store; the engine is "
           "unusable afterwards. Idempotent.")
      .def_property_readonly("closed", &PyEngine::closed)
      .def_property_readonly("started",
                             [](PyEngine& self) {
                               return without_gil(
                                   self, [](Engine& e) { return e.started(); });
                             })
      .def("worker_stats", [](PyEngine& self) -> py::object {
        auto stats =
            without_gil(self, [](Engine& e) { return e.worker_stats(); });
        if (!stats) return py::none();
        py::dict d;
        d["handled"] = stats->handled;
        d["failed"] = stats->failed;
        d["skipped"] = stats->skipped;
        d["rejected"] = stats->rejected;
        return std::move(d);
      });
}

void bind_configurations(py::class_<PyEngine>& engine) {
  engine
      .def(
          "save_configuration",
          [](PyEngine& self, const py::object& config) {
            Configuration parsed = config_from_py(config);
            return config_to_py(without_gil(self, [&](Engine& e) {
              return e.save_configuration(std::move(parsed));
            }));
          },
          py::arg("configuration"))
      .def(
          "find_configuration",
          [](PyEngine& self, const std::string& id_or_name) -> py::object {
            auto config = without_gil(self, [&](Engine& e) {
              return e.find_configuration(id_or_name);
            });
            return config ? config_to_py(*config) : py::none();
          },
          py::arg("id_or_name"))
      .def("configurations", [](PyEngine& self) {
        py::list out;
        for (const Configuration& c : without_gil(
                 self, [](Engine& e) { return e.list_configurations(); })) {
          out.append(config_to_py(c));
        }
        return out;
      });
}

Run start_run(const PyEngine& self, const py::object& configuration,
              const std::string& description, const std::string& ingestion_id,
              const py::object& payload) {
  RunOptions options;
  options.description = description;
  options.ingestion_id = ingestion_id;
  options.payload = payload_to_json(payload);
  if (py::isinstance<py::str>(configuration)) {
    std::string name = configuration.cast<std::string>();
    return without_gil(self,
                       [&](Engine& e) { return e.start_run(name, options); });
  }
  Configuration config = config_from_py(configuration);
  return without_gil(self,
                     [&](Engine& e) { return e.start_run(config, options); });
}

void bind_runs(py::class_<PyEngine>& engine) {
  engine
      .def(
          "start_run",
          [](PyEngine& self, const py::object& configuration,
             const std::string& description, const std::string& ingestion_id,
             const py::object& payload) {
            return run_to_py(start_run(self, configuration, description,
                                       ingestion_id, payload));
          },
          py::arg("configuration"), py::arg("description") = "",
          py::arg("ingestion_id") = "", py::arg("payload") = py::none(),
          "Starts a run of a saved configuration (id or name, a str) or of "
          "an unsaved one (a dict).")
      .def(
          "rerun",
          [](PyEngine& self, const std::string& run_id,
             const std::string& description) {
            return run_to_py(without_gil(
                self, [&](Engine& e) { return e.rerun(run_id, description); }));
          },
          py::arg("run_id"), py::arg("description") = "")
      .def(
          "resume",
          [](PyEngine& self, const std::string& run_id) {
            return run_to_py(
                without_gil(self, [&](Engine& e) { return e.resume(run_id); }));
          },
          py::arg("run_id"))
      .def(
          "cancel",
          [](PyEngine& self, const std::string& run_id) {
            return without_gil(self,
                               [&](Engine& e) { return e.cancel(run_id); });
          },
          py::arg("run_id"))
      .def(
          "find_run",
          [](PyEngine& self, const std::string& run_id) -> py::object {
            auto run = without_gil(
                self, [&](Engine& e) { return e.find_run(run_id); });
            return run ? run_to_py(*run) : py::none();
          },
          py::arg("run_id"))
      .def(
          "find_run_json",
          [](PyEngine& self, const std::string& run_id) -> py::object {
            auto run = without_gil(
                self, [&](Engine& e) { return e.find_run(run_id); });
            return run ? from_json(to_json(*run)) : py::none();
          },
          py::arg("run_id"),
          "The run as the core's camelCase JSON (a dict), the form "
          "Run.from_dict() reads; find_run() builds the same Run directly.")
      .def(
          "runs",
          [](PyEngine& self, std::size_t limit, std::size_t offset,
             std::optional<std::string> status,
             const std::string& configuration) {
            RunQuery query;
            query.limit = limit;
            query.offset = offset;
            if (status) query.status = run_status_from_string(*status);
            query.configuration = configuration;
            py::list out;
            for (const Run& run : without_gil(
                     self, [&](Engine& e) { return e.list_runs(query); })) {
              out.append(run_to_py(run));
            }
            return out;
          },
          py::arg("limit") = 100, py::arg("offset") = 0,
          py::arg("status") = py::none(), py::arg("configuration") = "")
      .def("wait", &wait_for_run, py::arg("run_id"),
           py::arg("timeout") = py::none(),
           "Blocks without the GIL until the run is completed, failed or "
           "cancelled; returns it. Raises TimeoutError after `timeout` s.");
}

}  // namespace

void bind_engine(py::module_& m) {
  bind_event_stream(m);
  py::class_<PyEngine> engine(
      m, "Engine",
      "The core engine: transport, store, orchestrator and worker. Use "
      "isoqube.Engine, which wraps this class.");
  bind_lifecycle(engine);
  bind_registration(engine);
  bind_configurations(engine);
  bind_runs(engine);
  bind_messaging(engine);
}

}  // namespace isoqube::bindings
