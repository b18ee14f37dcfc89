// What a harness does when a property it checks does not hold: print what
// and abort, which libFuzzer reports as a crash and keeps the input of.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, what)                                         \
  do {                                                                      \
    if (!(condition)) {                                                     \
      std::fprintf(stderr, "property failed: %s (%s)\n", what, #condition); \
      std::abort();                                                         \
    }                                                                       \
  } while (0)
