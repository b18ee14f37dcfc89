// What the MongoDB log collection costs the logging thread: nanoseconds per
// log call on an isoqube logger with only the standard error sink (sent to
// /dev/null here, as a service's stderr usually goes to a file or journal)
// and with the log collection attached too, and how fast its writer then
// empties the queue into the server.
//
//   log_sink_bench [--uri mongodb://…] [--lines N] [--rounds R]
//
// The URI defaults to $ISOQUBE_TEST_MONGODB_URI (scripts/mongodb start DIR
// prints one); the lines go to a database of their own, dropped at the end.
// Prints one JSON object on stdout.
#include <fcntl.h>
#include <mongoc/mongoc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_stats.h"
#include "isoqube/log.h"
#include "isoqube/log_collection.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string uri;
  int lines = 100000;
  int rounds = 3;
};

Args parse(int argc, char** argv) {
  Args args;
  if (const char* env = std::getenv("ISOQUBE_TEST_MONGODB_URI")) args.uri = env;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--uri")
      args.uri = argv[i + 1];
    else if (key == "--lines")
      args.lines = std::atoi(argv[i + 1]);
    else if (key == "--rounds")
      args.rounds = std::atoi(argv[i + 1]);
  }
  if (args.uri.empty() || args.lines <= 0 || args.rounds <= 0) {
    std::fprintf(stderr,
                 "usage: log_sink_bench --uri mongodb://… [--lines N] "
                 "[--rounds R] (or set ISOQUBE_TEST_MONGODB_URI)\n");
    std::exit(2);
  }
  return args;
}

std::string with_database(const std::string& uri, const std::string& db) {
  const std::size_t start = uri.find("://") + 3;
  const std::size_t query = uri.find('?', start);
  const std::size_t end = query == std::string::npos ? uri.size() : query;
  const std::size_t slash = uri.find('/', start);
  const std::size_t hosts_end =
      slash != std::string::npos && slash < end ? slash : end;
  return uri.substr(0, hosts_end) + "/" + db + uri.substr(end);
}

struct Timing {
  double mean_ns = 0;
  double p50_ns = 0;
  double p99_ns = 0;
  double max_ns = 0;
};

// `lines` calls, each timed on its own; the mean from the whole loop.
Timing log_lines(int lines, int round) {
  auto log = isoqube::logger("bench");
  std::vector<double> samples(static_cast<std::size_t>(lines));
  const auto started = Clock::now();
  for (int i = 0; i < lines; ++i) {
    const auto t0 = Clock::now();
    log->info("step {} of run {} consumed by linux-pool (round {})", i,
              "3f2a9c1e", round);
    samples[static_cast<std::size_t>(i)] =
        std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
  }
  const double total =
      std::chrono::duration<double, std::nano>(Clock::now() - started).count();
  Timing t;
  t.mean_ns = total / lines;
  t.max_ns = *std::max_element(samples.begin(), samples.end());
  t.p99_ns = bench::percentile(samples, 0.99);
  t.p50_ns = bench::percentile(samples, 0.50);
  return t;
}

Timing median_of(std::vector<Timing> runs) {
  std::sort(runs.begin(), runs.end(), [](const Timing& a, const Timing& b) {
    return a.mean_ns < b.mean_ns;
  });
  return runs[runs.size() / 2];
}

void drop_database(const std::string& uri, const std::string& db) {
  mongoc_client_t* client = mongoc_client_new(uri.c_str());
  if (client == nullptr) return;
  mongoc_database_t* d = mongoc_client_get_database(client, db.c_str());
  mongoc_database_drop(d, nullptr);
  mongoc_database_destroy(d);
  mongoc_client_destroy(client);
}

void print(const char* name, const Timing& t, bool comma) {
  std::printf(
      "  \"%s\": {\"mean_ns\": %.0f, \"p50_ns\": %.0f, \"p99_ns\": %.0f, "
      "\"max_ns\": %.0f}%s\n",
      name, t.mean_ns, t.p50_ns, t.p99_ns, t.max_ns, comma ? "," : "");
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const std::string db = "isoqube_bench_logs_" + std::to_string(getpid());
  const std::string uri = with_database(args.uri, db);
  isoqube::set_log_level("info");
  // The standard error sink writes to /dev/null: its cost stays in both
  // figures, but not a terminal's.
  const int null_fd = open("/dev/null", O_WRONLY);
  const int saved_stderr = dup(2);
  dup2(null_fd, 2);

  std::vector<Timing> without, with;
  isoqube::LogCollectionStats stats;
  double drain_ms = 0;
  for (int round = 0; round < args.rounds; ++round) {
    without.push_back(log_lines(args.lines, round));
    isoqube::LogCollectionOptions options;
    options.application = "log_sink_bench";
    // Room for every line: the figure is the cost of queueing one, not of
    // dropping it.
    options.max_queued = static_cast<std::size_t>(args.lines) + 1;
    options.flush_timeout = std::chrono::minutes(5);
    auto logs = isoqube::send_logs_to(uri, options);
    with.push_back(log_lines(args.lines, round));
    const auto flushing = Clock::now();
    logs->flush(std::chrono::minutes(5));
    drain_ms +=
        std::chrono::duration<double, std::milli>(Clock::now() - flushing)
            .count();
    stats = logs->stats();
  }
  dup2(saved_stderr, 2);
  drop_database(args.uri, db);

  const Timing base = median_of(without);
  const Timing sink = median_of(with);
  std::printf("{\n  \"lines_per_round\": %d,\n  \"rounds\": %d,\n", args.lines,
              args.rounds);
  print("stderr_only", base, true);
  print("with_log_collection", sink, true);
  std::printf("  \"ratio_mean\": %.2f,\n", sink.mean_ns / base.mean_ns);
  std::printf("  \"last_round\": {\"written\": %llu, \"dropped\": %llu},\n",
              static_cast<unsigned long long>(stats.written),
              static_cast<unsigned long long>(stats.dropped));
  std::printf("  \"drain_after_burst_ms_mean\": %.0f\n}\n",
              drain_ms / args.rounds);
  return 0;
}
