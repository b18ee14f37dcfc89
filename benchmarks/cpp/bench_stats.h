// Figures shared by the C++ benchmark drivers: percentiles of latency
// samples and the process's peak memory, as the Python harnesses expect them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace bench {

// The p-th quantile (0..1) of the samples, nearest rank below; 0 when empty.
// Reorders the samples.
inline double percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  auto k =
      static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + k, samples.end());
  return samples[k];
}

// This process's peak resident memory (VmHWM of /proc/self/status; 0 when
// unreadable). Not getrusage's ru_maxrss: Linux carries that across exec,
// so a small driver started by a larger Python harness reported the
// harness's peak.
inline double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;  // kB
    }
  }
  return 0;
}

}  // namespace bench
