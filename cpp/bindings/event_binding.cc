// Messages and events of isoqube._core: EventStream and the Engine methods
// that publish and follow events. Events cross as dicts in the camelCase
// form the core's to_json() writes.
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "convert.h"
#include "py_engine.h"

namespace isoqube::bindings {
namespace {

py::object next_event(const std::shared_ptr<EventStream>& stream,
                      std::optional<double> timeout_seconds) {
  bool closed = false;
  auto event = in_slices<Event>(
      to_timeout(timeout_seconds), [&](std::chrono::milliseconds slice) {
        const auto started = SteadyClock::now();
        std::optional<Event> e = stream->next(slice);
        // next() waits on its condition with this steady-clock timeout, so
        // coming back empty-handed before the slice is over means the stream
        // was closed; report that as a value to stop waiting.
        if (!e && SteadyClock::now() - started < slice) closed = true;
        return closed ? std::optional<Event>(Event{}) : e;
      });
  if (!event || closed) return py::none();
  return from_json(to_json(*event));
}

}  // namespace

void bind_event_stream(py::module_& m) {
  py::class_<EventStream, std::shared_ptr<EventStream>>(
      m, "EventStream",
      "A live feed of events from Engine.subscribe(). Thread-safe.")
      .def("next", &next_event, py::arg("timeout") = py::none(),
           "The next event as a dict, or None after `timeout` seconds (None: "
           "wait forever) or once the stream is closed and drained. Waits "
           "without the GIL.")
      .def("close", &EventStream::close,
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("dropped", &EventStream::dropped)
      .def_property_readonly("run_id", &EventStream::run_id);
  py::class_<EventFeed>(m, "EventFeed",
                        "Every run's events after a seq, each once, read "
                        "with Engine.read_event_feed(). One thread at a time.")
      .def(py::init<int64_t>(), py::arg("after_seq") = 0)
      .def_property_readonly("seq", &EventFeed::seq);
}

void bind_messaging(py::class_<PyEngine>& engine) {
  engine
      .def(
          "publish",
          [](PyEngine& self, const std::string& topic,
             const py::object& payload, const std::string& ingestion_id) {
            Json body = payload_to_json(payload);
            without_gil(self, [&](Engine& e) {
              e.publish(topic, std::move(body), ingestion_id);
            });
          },
          py::arg("topic"), py::arg("payload") = py::none(),
          py::arg("ingestion_id") = "")
      .def(
          "subscribe",
          [](PyEngine& self, const std::string& run_id) {
            return self.engine()->subscribe(run_id);
          },
          py::arg("run_id") = "")
      .def(
          "unsubscribe",
          [](PyEngine& self, const std::shared_ptr<EventStream>& stream) {
            if (self.closed()) {
              stream->close();
              return;
            }
            self.engine()->unsubscribe(stream);
          },
          py::arg("stream"))
      .def(
          "event_log",
          [](PyEngine& self, const std::string& run_id, int64_t after_seq,
             std::size_t limit) {
            EventQuery query;
            query.run_id = run_id;
            query.after_seq = after_seq;
            query.limit = limit;
            py::list out;
            for (const Event& event : without_gil(self, [&](Engine& e) {
                   return e.store().events(query);
                 })) {
              out.append(from_json(to_json(event)));
            }
            return out;
          },
          py::arg("run_id") = "", py::arg("after_seq") = 0,
          py::arg("limit") = 1000, "Stored events, oldest first.")
      .def(
          "read_event_feed",
          [](PyEngine& self, EventFeed& feed, std::size_t limit) {
            py::list out;
            for (const Event& event : without_gil(self, [&](Engine& e) {
                   return feed.read(e.store(), limit);
                 })) {
              out.append(from_json(to_json(event)));
            }
            return out;
          },
          py::arg("feed"), py::arg("limit") = 1000,
          "The feed's events not delivered yet (store.h, EventFeed).")
      .def(
          "last_event_seq",
          [](PyEngine& self) {
            return without_gil(
                self, [](Engine& e) { return e.store().last_event_seq(); });
          },
          "The seq of the newest stored event (0: none).");
}

}  // namespace isoqube::bindings
