// AMQP field tables (message headers, declaration arguments) as JSON
// objects, both ways. Internal to the RabbitMQ transport.
#pragma once

#include <amqp.h>

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "isoqube/json.h"

namespace isoqube::detail {

// A rabbitmq-c view of `bytes`; valid while `bytes` lives unchanged.
amqp_bytes_t amqp_bytes(std::string_view bytes);
std::string to_string(amqp_bytes_t bytes);

// Reads a table into a JSON object: strings and byte arrays become strings,
// numbers numbers, booleans booleans, nested tables objects, arrays arrays,
// timestamps seconds since the epoch, void null.
Json table_to_json(const amqp_table_t& table);

// Builds tables from JSON objects. The tables point into the builder and
// into the JSON values given, so both must outlive their use and the JSON
// must not change meanwhile. Strings become long strings, integers signed
// 64-bit, other numbers doubles, objects tables, arrays arrays, null void.
// Single-threaded.
class AmqpTableBuilder {
 public:
  amqp_table_t build(const Json& object);

 private:
  amqp_field_value_t field(const Json& value);

  std::deque<std::vector<amqp_table_entry_t>> entries_;
  std::deque<std::vector<amqp_field_value_t>> arrays_;
};

}  // namespace isoqube::detail
