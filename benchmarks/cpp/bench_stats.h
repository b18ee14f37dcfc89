// Figures shared by the C++ benchmark drivers: percentiles of latency
// samples and the process's peak memory, as the Python harnesses expect them.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <cstddef>
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

inline double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace bench
