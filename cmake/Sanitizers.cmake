# The sanitizer build (scripts/sanitize): every target of the project, the
# core, its tests and the fuzzers, compiled with AddressSanitizer and
# UndefinedBehaviorSanitizer, any finding fatal. With ISOQUBE_FUZZ (clang
# only) the code is also instrumented for libFuzzer's coverage and the
# harnesses of tests/fuzz/ are built.
option(ISOQUBE_SANITIZE "Build with AddressSanitizer and UBSan" OFF)
option(ISOQUBE_FUZZ "Build the libFuzzer harnesses (needs clang)" OFF)

if(ISOQUBE_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "ISOQUBE_FUZZ needs clang (libFuzzer): configure with "
                      "-DCMAKE_CXX_COMPILER=clang++")
endif()

if(ISOQUBE_SANITIZE OR ISOQUBE_FUZZ)
  set(_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=all
                  -fno-omit-frame-pointer)
  add_compile_options(${_sanitizers})
  add_link_options(-fsanitize=address,undefined)
  if(ISOQUBE_FUZZ)
    add_compile_options(-fsanitize=fuzzer-no-link)
  endif()
endif()
