#include "transport/amqp_table.h"

#include <limits>

namespace isoqube::detail {
namespace {

Json field_to_json(const amqp_field_value_t& field);

Json array_to_json(const amqp_array_t& array) {
  Json out = Json::array();
  for (int i = 0; i < array.num_entries; ++i) {
    out.push_back(field_to_json(array.entries[i]));
  }
  return out;
}

Json decimal_to_json(const amqp_decimal_t& decimal) {
  double value = decimal.value;
  for (int i = 0; i < decimal.decimals; ++i) value /= 10;
  return value;
}

Json field_to_json(const amqp_field_value_t& field) {
  const auto& v = field.value;
  switch (field.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      return v.boolean != 0;
    case AMQP_FIELD_KIND_I8:
      return v.i8;
    case AMQP_FIELD_KIND_U8:
      return v.u8;
    case AMQP_FIELD_KIND_I16:
      return v.i16;
    case AMQP_FIELD_KIND_U16:
      return v.u16;
    case AMQP_FIELD_KIND_I32:
      return v.i32;
    case AMQP_FIELD_KIND_U32:
      return v.u32;
    case AMQP_FIELD_KIND_I64:
      return v.i64;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
      return v.u64;
    case AMQP_FIELD_KIND_F32:
      return v.f32;
    case AMQP_FIELD_KIND_F64:
      return v.f64;
    case AMQP_FIELD_KIND_DECIMAL:
      return decimal_to_json(v.decimal);
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      return to_string(v.bytes);
    case AMQP_FIELD_KIND_TABLE:
      return table_to_json(v.table);
    case AMQP_FIELD_KIND_ARRAY:
      return array_to_json(v.array);
    default:
      return nullptr;  // void, and kinds newer than this code
  }
}

}  // namespace

amqp_bytes_t amqp_bytes(std::string_view bytes) {
  amqp_bytes_t out;
  out.len = bytes.size();
  out.bytes = const_cast<char*>(bytes.data());
  return out;
}

std::string to_string(amqp_bytes_t bytes) {
  if (bytes.len == 0) return {};
  return std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

Json table_to_json(const amqp_table_t& table) {
  Json out = Json::object();
  for (int i = 0; i < table.num_entries; ++i) {
    const amqp_table_entry_t& entry = table.entries[i];
    out[to_string(entry.key)] = field_to_json(entry.value);
  }
  return out;
}

amqp_table_t AmqpTableBuilder::build(const Json& object) {
  std::vector<amqp_table_entry_t>& entries = entries_.emplace_back();
  entries.reserve(object.size());
  for (const auto& item : object.items()) {
    amqp_table_entry_t entry;
    entry.key = amqp_bytes(item.key());
    entry.value = field(item.value());
    entries.push_back(entry);
  }
  amqp_table_t table;
  table.num_entries = static_cast<int>(entries.size());
  table.entries = entries.empty() ? nullptr : entries.data();
  return table;
}

amqp_field_value_t AmqpTableBuilder::field(const Json& value) {
  amqp_field_value_t out{};
  if (value.is_string()) {
    out.kind = AMQP_FIELD_KIND_UTF8;
    out.value.bytes = amqp_bytes(value.get_ref<const std::string&>());
  } else if (value.is_boolean()) {
    out.kind = AMQP_FIELD_KIND_BOOLEAN;
    out.value.boolean = value.get<bool>();
  } else if (value.is_number_unsigned() &&
             value.get<uint64_t>() >
                 static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    // RabbitMQ reads no unsigned 64-bit fields.
    out.kind = AMQP_FIELD_KIND_F64;
    out.value.f64 = value.get<double>();
  } else if (value.is_number_integer()) {
    out.kind = AMQP_FIELD_KIND_I64;
    out.value.i64 = value.get<int64_t>();
  } else if (value.is_number()) {
    out.kind = AMQP_FIELD_KIND_F64;
    out.value.f64 = value.get<double>();
  } else if (value.is_object()) {
    out.kind = AMQP_FIELD_KIND_TABLE;
    out.value.table = build(value);
  } else if (value.is_array()) {
    std::vector<amqp_field_value_t>& items = arrays_.emplace_back();
    items.reserve(value.size());
    for (const Json& item : value) items.push_back(field(item));
    out.kind = AMQP_FIELD_KIND_ARRAY;
    out.value.array.num_entries = static_cast<int>(items.size());
    out.value.array.entries = items.empty() ? nullptr : items.data();
  } else {
    out.kind = AMQP_FIELD_KIND_VOID;
  }
  return out;
}

}  // namespace isoqube::detail
