// A consumer module as users write them, loaded by the registry and engine
// tests through ISOQUBE_TEST_MODULE.
#include "isoqube/consumer.h"

ISOQUBE_TOPIC(ModuleTestTopic, "Topic registered by the test module");

struct ModuleTestConsumer {
  isoqube::Json handle(isoqube::Context& ctx) {
    return {{"echo", ctx.payload()}};
  }
};
ISOQUBE_CONSUMER(ModuleTestConsumer, "ModuleTestTopic", "test-service");
