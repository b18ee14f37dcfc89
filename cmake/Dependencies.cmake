# Every third-party dependency is found here, each for a stated reason.
# All come from Debian's packages (see scripts/install-deps).

find_package(Threads REQUIRED)

# spdlog (libspdlog-dev): logging, required by the project's design; one
# named logger per part, shared sinks, level control from Python and the CLI.
find_package(spdlog REQUIRED)

# nlohmann/json (nlohmann-json3-dev): the JSON value type of payloads and
# envelopes; header-only, value semantics, widely known (see json.h).
find_package(nlohmann_json 3.10 REQUIRED)

# SQLite (libsqlite3-dev): the embedded default store; WAL mode lets other
# processes read while one writes.
find_package(SQLite3 REQUIRED)

# rabbitmq-c (librabbitmq-dev): the AMQP 0-9-1 client of the RabbitMQ
# transport, as the project's design requires; plain C, one connection per
# thread, TLS through OpenSSL.
find_package(rabbitmq-c 0.11 REQUIRED)
# OpenSSL (libssl-dev, which rabbitmq-c's TLS uses already): amqps://
# without a cacertfile verifies the broker against the system's CA
# certificates, which rabbitmq-c does not load by itself.
find_package(OpenSSL REQUIRED)

# mongo-c-driver (libmongoc-dev, with libbson): the MongoDB store's client,
# as the project's design requires; client pool for threads, BSON codec.
find_package(mongoc-1.0 1.23 REQUIRED)

if(ISOQUBE_BUILD_TESTS)
  # GoogleTest (libgtest-dev, libgmock-dev): the C++ test suite.
  find_package(GTest REQUIRED)
endif()

if(ISOQUBE_BUILD_PYTHON)
  # pybind11 (PyPI, a build requirement in pyproject.toml): the Python module.
  find_package(Python 3.9 REQUIRED COMPONENTS Interpreter Development.Module)
  find_package(pybind11 CONFIG REQUIRED)
endif()
