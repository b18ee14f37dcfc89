// Envelope codec cost per message, beside nlohmann's parser reading the
// same text in the same run (the parser decode() used alone before
// message/plain_json.h). Usage: codec_bench [ROUNDS]
// Prints one JSON line per envelope: microseconds per decode(), per
// Json::parse() and per encode(), and decode's share of the parse.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "isoqube/message.h"
#include "isoqube/time.h"

namespace {

template <typename F>
double micros_per_call(int rounds, F&& f) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) f();
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now() - start)
             .count() /
         rounds;
}

// A step envelope as the orchestrator writes one.
isoqube::Envelope step_envelope() {
  isoqube::Envelope e;
  e.message_id = isoqube::new_uuid();
  e.correlation_id = e.conversation_id = isoqube::new_uuid();
  e.message_type = {"urn:message:Isoqube.Topics:Build"};
  e.sent_time = isoqube::now();
  e.host = {{"machineName", "worker-1"},
            {"processName", "isoqube"},
            {"processId", 4242},
            {"assembly", "isoqube"}};
  e.headers = {{"Isoqube-Step", "build"}};
  e.message = {{"correlationId", e.correlation_id},
               {"ingestionId", isoqube::new_uuid()},
               {"timestamp", isoqube::format_time(e.sent_time)},
               {"step", "build"},
               {"stepIndex", 3},
               {"attempt", 1},
               {"payload", {{"branch", "main"}, {"commit", "4f2a9c1"}}}};
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 100000;
  const isoqube::Envelope plain = step_envelope();
  isoqube::Envelope accented = step_envelope();
  accented.message["payload"]["author"] = "Zoë";
  isoqube::Envelope escaped = step_envelope();
  // Written as \u0001, outside the plain subset: decode() falls back to
  // nlohmann's parser after the plain reader gave up.
  escaped.message["payload"]["note"] = "bell\x01";
  const std::vector<std::pair<const char*, isoqube::Envelope>> cases = {
      {"step envelope", plain},
      {"step envelope, non-ASCII payload", accented},
      {"step envelope, \\u escape (falls back)", escaped}};
  for (const auto& [name, each] : cases) {
    const isoqube::Envelope& envelope = each;  // a lambda may capture it
    const std::string text = isoqube::encode(envelope);
    const double decode = micros_per_call(
        rounds, [&] { isoqube::Envelope e = isoqube::decode(text); });
    const double parse = micros_per_call(
        rounds, [&] { isoqube::Json j = isoqube::Json::parse(text); });
    const double encode = micros_per_call(
        rounds, [&] { std::string s = isoqube::encode(envelope); });
    std::printf(
        "{\"case\": \"%s\", \"bytes\": %zu, \"decode_us\": %.2f, "
        "\"nlohmann_parse_us\": %.2f, \"decode_per_parse\": %.2f, "
        "\"encode_us\": %.2f}\n",
        name, text.size(), decode, parse, decode / parse, encode);
  }
  return 0;
}
