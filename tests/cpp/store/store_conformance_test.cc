// The store kinds the conformance suite runs against. The specifications
// themselves are in store_{configurations,runs,transitions,events}_test.cc.
#include "store/store_conformance.h"

#include "store/mongo_server.h"

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
  factory.reopen = factory.open;
  return factory;
}

// MongoDB: the server of ISOQUBE_TEST_MONGODB_URI, a database per test.
StoreFactory mongo_store_factory() {
  StoreFactory factory;
  factory.name = "Mongo";
  factory.unavailable = mongo_unavailable;
  factory.open = [](const std::string& scratch) {
    return open_store(
        uri_with_database(mongo_test_uri(), test_database(scratch)));
  };
  factory.reopen = factory.open;
  factory.close = [](const std::string& scratch) {
    drop_test_database(test_database(scratch));
  };
  return factory;
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformanceTest,
                         ::testing::Values(memory_store_factory(),
                                           sqlite_store_factory(),
                                           mongo_store_factory()),
                         factory_name);

}  // namespace
}  // namespace isoqube::testing
