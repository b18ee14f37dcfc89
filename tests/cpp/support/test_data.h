// Files of tests/data/: what peers (MassTransit, the seed) write, kept
// exactly as they write it, shared with the Python tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace isoqube::testing {

inline std::filesystem::path test_data_folder() {
  return ISOQUBE_TEST_DATA;  // set by tests/cpp/CMakeLists.txt
}

// The text of tests/data/`relative`; a test failure when it cannot be read.
inline std::string read_test_data(const std::string& relative) {
  const auto path = test_data_folder() / relative;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace isoqube::testing
