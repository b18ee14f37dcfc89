// Waiting on conditions in tests, never on bare sleeps.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace isoqube::testing {

// Polls `condition` until it holds or `timeout` passes; returns whether it
// held.
inline bool wait_until(
    const std::function<bool()>& condition,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace isoqube::testing
