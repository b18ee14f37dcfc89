// The store kinds the conformance suite runs against. The specifications
// themselves are in store_{configurations,runs,transitions,events}_test.cc.
#include "store/store_conformance.h"

namespace isoqube::testing {
namespace {

StoreFactory memory_store_factory() {
  StoreFactory factory;
  factory.name = "Memory";
  factory.open = [](const std::string&) { return open_store("memory://"); };
  return factory;
}

StoreFactory sqlite_store_factory() {
  StoreFactory factory;
  factory.name = "Sqlite";
  factory.open = [](const std::string& scratch) {
    return open_store("sqlite://" + scratch + "/isoqube.db");
  };
  return factory;
}

// A MongoDB factory goes beside these: `unavailable` returns why when no
// server is reachable (its tests are then skipped), `open` connects to a
// database named after the test.

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformanceTest,
                         ::testing::Values(memory_store_factory(),
                                           sqlite_store_factory()),
                         factory_name);

}  // namespace
}  // namespace isoqube::testing
