#include "log_binding.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <string>

#include "isoqube/errors.h"
#include "isoqube/log_collection.h"

namespace py = pybind11;

namespace isoqube::bindings {
namespace {

using std::chrono::milliseconds;

milliseconds to_ms(double seconds, const char* what) {
  if (!(seconds >= 0)) {
    throw py::value_error(std::string(what) +
                          " must be a number of seconds >= 0");
  }
  return milliseconds(static_cast<int64_t>(seconds * 1000));
}

// The Python object owns the collection until close(), so that closing
// (a flush, up to flush_timeout) happens when the program says, not when
// the garbage collector gets to it.
class PyLogCollection {
 public:
  explicit PyLogCollection(std::unique_ptr<LogCollection> logs)
      : logs_(std::move(logs)), uri_(logs_->uri()) {}

  bool flush(double timeout) {
    LogCollection& logs = get();
    const milliseconds wait = to_ms(timeout, "timeout");
    py::gil_scoped_release release;
    return logs.flush(wait);
  }

  void close() {
    std::unique_ptr<LogCollection> closing = std::move(logs_);
    py::gil_scoped_release release;
    closing.reset();
  }

  py::dict stats() {
    const LogCollectionStats s = get().stats();
    py::dict out;
    out["written"] = s.written;
    out["dropped"] = s.dropped;
    out["rejected"] = s.rejected;
    out["queued"] = s.queued;
    out["failed_attempts"] = s.failed_attempts;
    return out;
  }

  bool closed() const { return logs_ == nullptr; }
  const std::string& uri() const { return uri_; }

 private:
  LogCollection& get() {
    if (!logs_) throw Error("the log collection " + uri_ + " is closed");
    return *logs_;
  }

  std::unique_ptr<LogCollection> logs_;
  std::string uri_;
};

}  // namespace

void bind_log_collection(py::module_& m) {
  py::class_<PyLogCollection>(m, "LogCollection")
      .def("flush", &PyLogCollection::flush, py::arg("timeout") = 5.0,
           "Waits until the lines logged so far are written, up to timeout "
           "seconds; returns whether they were.")
      .def("close", &PyLogCollection::close,
           "Writes what is queued (up to flush_timeout) and detaches. "
           "Closing twice does nothing.")
      .def("stats", &PyLogCollection::stats,
           "Counts: written, dropped, rejected, queued, failed_attempts.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__",
           [](PyLogCollection& self, const py::args&) { self.close(); })
      .def_property_readonly("closed", &PyLogCollection::closed)
      .def_property_readonly("uri", &PyLogCollection::uri);

  m.def(
      "send_logs_to",
      [](const std::string& uri, const std::string& application,
         const std::string& environment, const std::string& collection,
         const std::string& level, std::size_t max_queued, std::size_t batch,
         double interval, double flush_timeout) {
        LogCollectionOptions options;
        options.application = application;
        options.environment = environment;
        options.collection = collection;
        options.level = level;
        options.max_queued = max_queued;
        options.batch = batch;
        options.interval = to_ms(interval, "interval");
        options.flush_timeout = to_ms(flush_timeout, "flush_timeout");
        std::unique_ptr<LogCollection> logs;
        {
          py::gil_scoped_release release;
          logs = send_logs_to(uri, options);
        }
        return std::make_unique<PyLogCollection>(std::move(logs));
      },
      py::arg("uri"), py::kw_only(), py::arg("application") = "isoqube",
      py::arg("environment") = "Production", py::arg("collection") = "Logs",
      py::arg("level") = "info", py::arg("max_queued") = 10000,
      py::arg("batch") = 500, py::arg("interval") = 0.2,
      py::arg("flush_timeout") = 5.0,
      "Also writes every isoqube log line to a MongoDB collection until the "
      "returned LogCollection is closed.");
}

}  // namespace isoqube::bindings
