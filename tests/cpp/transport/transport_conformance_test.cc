// The transports the conformance suite runs against. The specifications
// themselves are in transport_conformance_{routing,delivery,broadcast}_test.cc.
#include "transport_conformance.h"

namespace isoqube::testing {
namespace {

TransportFactory memory_transport_factory() {
  TransportFactory factory;
  factory.name = "Memory";
  factory.open = [] { return open_transport("memory://"); };
  return factory;
}

// RabbitMQ: the broker of ISOQUBE_TEST_AMQP_URI (see amqp_broker.h).
TransportFactory amqp_transport_factory() {
  TransportFactory factory;
  factory.name = "Amqp";
  factory.distributed = true;
  factory.unavailable = [] {
    return env("ISOQUBE_TEST_AMQP_URI").empty()
               ? std::string("ISOQUBE_TEST_AMQP_URI is not set")
               : std::string();
  };
  factory.open = [] { return open_transport(env("ISOQUBE_TEST_AMQP_URI")); };
  return factory;
}

INSTANTIATE_TEST_SUITE_P(Transports, TransportConformanceTest,
                         ::testing::Values(memory_transport_factory(),
                                           amqp_transport_factory()),
                         transport_factory_name);

}  // namespace
}  // namespace isoqube::testing
