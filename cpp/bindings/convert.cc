#include "convert.h"

#include <cmath>
#include <string_view>
#include <vector>

#include "isoqube/errors.h"

namespace isoqube::bindings {
namespace {

// Where a value sits in the structure being converted, as a chain of parent
// links; rendered ("$.files[2]") only when a conversion fails.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;  // used when index < 0
  Py_ssize_t index = -1;
};

std::string render(const Path* path) {
  std::vector<const Path*> chain;
  for (const Path* p = path; p != nullptr; p = p->parent) chain.push_back(p);
  std::string text = "$";
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Path* p = *it;
    if (p->parent == nullptr && p->index < 0 && p->key.empty()) continue;
    if (p->index >= 0) {
      text += "[" + std::to_string(p->index) + "]";
    } else {
      text += ".";
      text += p->key;
    }
  }
  return text;
}

std::string type_name(py::handle value) {
  return Py_TYPE(value.ptr())->tp_name;
}

Json convert(py::handle value, const Path* path, int depth);

Json convert_int(py::handle value, const Path* path) {
  int overflow = 0;
  long long small = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (overflow == 0) {
    if (small == -1 && PyErr_Occurred()) throw py::error_already_set();
    return Json(static_cast<int64_t>(small));
  }
  if (overflow > 0) {
    unsigned long long big = PyLong_AsUnsignedLongLong(value.ptr());
    if (!PyErr_Occurred()) return Json(static_cast<uint64_t>(big));
    PyErr_Clear();
  }
  throw py::value_error("int " + py::str(value).cast<std::string>() + " at " +
                        render(path) +
                        " does not fit in 64 bits, the range of JSON numbers");
}

Json convert_float(py::handle value, const Path* path) {
  double number = PyFloat_AsDouble(value.ptr());
  if (!std::isfinite(number)) {
    throw py::value_error("float " + py::repr(value).cast<std::string>() +
                          " at " + render(path) + " is not valid JSON");
  }
  return Json(number);
}

Json convert_str(py::handle value) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
  if (data == nullptr) throw py::error_already_set();
  return Json(std::string(data, static_cast<std::size_t>(size)));
}

Json convert_dict(py::handle value, const Path* path, int depth) {
  Json object = Json::object();
  PyObject* key = nullptr;
  PyObject* item = nullptr;
  Py_ssize_t position = 0;
  while (PyDict_Next(value.ptr(), &position, &key, &item)) {
    if (!PyUnicode_Check(key)) {
      throw py::type_error("dict key " + py::repr(key).cast<std::string>() +
                           " of type " + type_name(key) + " at " +
                           render(path) +
                           " is not a str, as JSON object keys must be");
    }
    std::string name = convert_str(key).get<std::string>();
    Path child{path, name};
    object[name] = convert(item, &child, depth + 1);
  }
  return object;
}

Json convert_sequence(py::handle value, const Path* path, int depth) {
  Json array = Json::array();
  const bool is_list = PyList_Check(value.ptr());
  // Sizes are re-read on every step: nothing runs Python code during the
  // conversion, but a list is cheap to re-measure.
  for (Py_ssize_t i = 0; i < (is_list ? PyList_GET_SIZE(value.ptr())
                                      : PyTuple_GET_SIZE(value.ptr()));
       ++i) {
    PyObject* item = is_list ? PyList_GET_ITEM(value.ptr(), i)
                             : PyTuple_GET_ITEM(value.ptr(), i);
    Path child{path, {}, i};
    array.push_back(convert(item, &child, depth + 1));
  }
  return array;
}

// `depth`: how many arrays and objects enclose the value.
Json convert(py::handle value, const Path* path, int depth) {
  PyObject* object = value.ptr();
  if (object == Py_None) return Json(nullptr);
  if (PyBool_Check(object)) return Json(object == Py_True);
  if (PyLong_Check(object)) return convert_int(value, path);
  if (PyFloat_Check(object)) return convert_float(value, path);
  if (PyUnicode_Check(object)) return convert_str(value);
  const bool sequence = PyList_Check(object) || PyTuple_Check(object);
  if ((sequence || PyDict_Check(object)) && depth >= kMaxJsonDepth) {
    throw py::value_error(
        "value at " + render(path) + " is nested deeper than " +
        std::to_string(kMaxJsonDepth) +
        " levels of arrays and objects (does it contain itself?)");
  }
  if (PyDict_Check(object)) return convert_dict(value, path, depth);
  if (sequence) return convert_sequence(value, path, depth);
  throw py::type_error(type_name(value) + " at " + render(path) +
                       " is not JSON-serialisable (expected dict, list, "
                       "tuple, str, int, float, bool or None)");
}

}  // namespace

Json to_json(py::handle value) {
  Path root;
  return convert(value, &root, 0);
}

py::object from_json(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      return py::none();
    case Json::value_t::boolean:
      return py::bool_(value.get<bool>());
    case Json::value_t::number_integer:
      return py::int_(value.get<int64_t>());
    case Json::value_t::number_unsigned:
      return py::int_(value.get<uint64_t>());
    case Json::value_t::number_float:
      return py::float_(value.get<double>());
    case Json::value_t::string: {
      // Text built by C++ code is not guaranteed to be valid UTF-8.
      const auto& text = value.get_ref<const std::string&>();
      PyObject* decoded = PyUnicode_DecodeUTF8(
          text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
      if (decoded == nullptr) throw py::error_already_set();
      return py::reinterpret_steal<py::object>(decoded);
    }
    case Json::value_t::binary: {
      const auto& bytes = value.get_binary();
      return py::bytes(reinterpret_cast<const char*>(bytes.data()),
                       bytes.size());
    }
    case Json::value_t::array: {
      py::list list(value.size());
      std::size_t i = 0;
      for (const Json& item : value) list[i++] = from_json(item);
      return std::move(list);
    }
    case Json::value_t::object: {
      py::dict dict;
      for (const auto& [key, item] : value.items()) {
        dict[py::str(key)] = from_json(item);
      }
      return std::move(dict);
    }
  }
  return py::none();
}

Json payload_to_json(py::handle payload) {
  if (payload.is_none()) return Json::object();
  if (!PyDict_Check(payload.ptr())) {
    throw py::type_error("payload must be a dict, not " + type_name(payload));
  }
  return to_json(payload);
}

std::string describe(const py::error_already_set& error) {
  std::string type = Py_TYPE(error.value().ptr())->tp_name;
  std::string message;
  // A user's exception may fail to turn into text; the step still needs an
  // error, so that failure must not escape.
  try {
    type = py::handle(error.type()).attr("__name__").cast<std::string>();
    message = py::str(error.value()).cast<std::string>();
  } catch (const py::error_already_set&) {
    message = "(its message could not be read)";
  }
  return message.empty() ? type : type + ": " + message;
}

std::optional<std::chrono::milliseconds> to_timeout(
    std::optional<double> seconds) {
  if (!seconds) return std::nullopt;
  if (std::isnan(*seconds) || *seconds < 0) {
    throw ConfigurationError("timeout must be a number of seconds >= 0, not " +
                             std::to_string(*seconds));
  }
  // Beyond about 30 years a timeout means "forever".
  if (*seconds > 1e9) return std::nullopt;
  return std::chrono::milliseconds(std::llround(*seconds * 1000.0));
}

py::dict topic_to_dict(const Topic& topic) {
  py::dict d;
  d["name"] = topic.name;
  d["description"] = topic.description;
  d["entityName"] = topic.entity_name;
  d["namespace"] = topic.ns;
  d["schema"] = from_json(topic.schema);
  d["urn"] = topic.urn();
  return d;
}

py::dict consumer_to_dict(const Consumer& consumer) {
  py::dict d;
  d["name"] = consumer.name;
  d["topic"] = consumer.topic;
  d["service"] = consumer.service;
  d["endpoint"] = consumer.endpoint;
  d["origin"] = consumer.origin;
  return d;
}

bool interpreter_alive() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsInitialized() && !Py_IsFinalizing();
#else
  return Py_IsInitialized() && !_Py_IsFinalizing();
#endif
}

}  // namespace isoqube::bindings
