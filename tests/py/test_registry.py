"""The decorators: validated when applied, leaving the decorated object as it was."""

from __future__ import annotations

import types

import isoqube
import pytest
from isoqube import RegistrationError


class FakeContext:
    payload = {"name": "ada"}


def test_topic_decorator_returns_the_class_and_records_its_definition(registry):
    # Given a payload class
    class DefaultSourceIngestion:
        pass

    # When it is decorated as a topic
    decorated = registry.topic("DefaultSourceIngestion", description="Default ingestion")(
        DefaultSourceIngestion
    )

    # Then the class is returned unchanged, with its definition attached
    assert decorated is DefaultSourceIngestion
    definition = DefaultSourceIngestion.__isoqube_topic__
    assert definition.name == "DefaultSourceIngestion"
    assert definition.description == "Default ingestion"
    assert definition.entity_name == "default-source-ingestion"
    assert definition.namespace == "Isoqube.Topics"
    assert registry.topics() == [definition]


def test_bare_topic_decorator_names_the_topic_after_the_class(registry):
    @registry.topic
    class LinuxBuildCompleted:
        pass

    @registry.topic()
    class WindowsBuildCompleted:
        pass

    assert [t.name for t in registry.topics()] == ["LinuxBuildCompleted", "WindowsBuildCompleted"]
    assert LinuxBuildCompleted.__isoqube_topic__.entity_name == "linux-build-completed"


def test_consumer_decorator_leaves_the_function_callable(registry):
    # Given a consumer function
    @registry.consumer("Greeting", service="default")
    def greet(ctx):
        return {"greeting": "hello " + ctx.payload["name"]}

    # When it is called directly, as a unit test would
    result = greet(FakeContext())

    # Then it behaves as the plain function it is
    assert result == {"greeting": "hello ada"}
    definition = greet.__isoqube_consumer__
    assert definition.name == "greet"
    assert (definition.topic, definition.service) == ("Greeting", "default")
    assert definition.endpoint == "greet"
    assert definition.origin.startswith("python:") and definition.origin.endswith("greet")
    assert registry.consumers() == [definition]


def test_consumer_name_and_endpoint_follow_the_masstransit_convention(registry):
    @registry.consumer("DefaultSourceIngestion", name="DefaultIngestionConsumer")
    def ingest(ctx):
        return None

    definition = ingest.__isoqube_consumer__
    assert definition.name == "DefaultIngestionConsumer"
    assert definition.endpoint == "default-ingestion"


def test_consumer_of_a_topic_class_registers_that_topic_too(registry):
    # Given a topic declared in another registry
    other = isoqube.Registry()

    @other.topic("Deploy", description="Deploy to VM")
    class Deploy:
        pass

    # When a consumer of it is declared here
    @registry.consumer(Deploy)
    def deploy(ctx):
        return None

    # Then this registry knows the topic as well
    assert [t.name for t in registry.topics()] == ["Deploy"]
    assert deploy.__isoqube_consumer__.topic == "Deploy"


@pytest.mark.parametrize("name", ["", "1stBuild", "has space", "dash-name", 42])
def test_topic_with_a_bad_name_is_rejected_naming_it(registry, name):
    with pytest.raises(ValueError, match="invalid topic name") as raised:
        registry.topic(name)(type("Payload", (), {}))
    assert isinstance(raised.value, RegistrationError)
    assert repr(name) in str(raised.value)
    assert registry.topics() == []


def test_consumer_with_a_bad_name_is_rejected_naming_it(registry):
    with pytest.raises(ValueError, match="invalid consumer name 'not valid'"):

        @registry.consumer("Topic", name="not valid")
        def handler(ctx):
            return None


def test_consumer_of_a_topic_with_a_bad_name_is_rejected(registry):
    with pytest.raises(RegistrationError, match="invalid topic name 'no good'"):
        registry.consumer("no good")


@pytest.mark.parametrize(
    ("apply", "option"),
    [
        (lambda r: r.topic("Topic", descripton="typo"), "descripton"),
        (lambda r: r.consumer("Topic", retries=3), "retries"),
    ],
)
def test_unknown_decorator_options_are_rejected_naming_the_option(registry, apply, option):
    with pytest.raises(ValueError, match=f"unknown option.*'{option}'"):
        apply(registry)


def test_same_topic_declared_twice_alike_is_accepted_and_differently_is_rejected(registry):
    # Given a topic
    registry.topic("Build", description="Build it")(type("Build", (), {}))

    # When the same definition comes again (a module imported twice), it is accepted
    registry.topic("Build", description="Build it")(type("Build", (), {}))
    assert len(registry.topics()) == 1

    # When a different one comes, it is rejected, naming the topic
    with pytest.raises(RegistrationError, match="topic 'Build' is already defined differently"):
        registry.topic("Build", description="Something else")(type("Build", (), {}))


def test_two_functions_may_not_define_the_same_consumer(registry):
    # Given a consumer
    @registry.consumer("Build", name="BuildConsumer")
    def first(ctx):
        return None

    # When another function claims the same consumer name
    with pytest.raises(RegistrationError, match="consumer 'BuildConsumer' is already defined"):

        @registry.consumer("Build", name="BuildConsumer")
        def second(ctx):
            return None

    # Then the first definition stays
    assert registry.find_consumer("BuildConsumer").handler is first


def test_redefining_the_same_function_replaces_its_handler(registry):
    # Given a consumer defined, then defined again by the same code (a re-run cell)
    def define(result):
        @registry.consumer("Build")
        def build(ctx):
            return result

        return build

    define(1)
    newest = define(2)

    # Then the registry holds the newest handler
    assert len(registry.consumers()) == 1
    assert registry.find_consumer("build").handler is newest


def test_a_handler_must_take_exactly_one_argument(registry):
    with pytest.raises(RegistrationError, match="must accept exactly one argument"):

        @registry.consumer("Build")
        def two(ctx, extra):
            return None

    with pytest.raises(RegistrationError, match="must accept exactly one argument"):

        @registry.consumer("Build")
        def none():
            return None


def test_an_async_handler_is_rejected(registry):
    with pytest.raises(RegistrationError, match="is a coroutine function"):

        @registry.consumer("Build")
        async def build(ctx):
            return None


def test_a_consumer_class_gets_a_fresh_instance_per_message(registry):
    # Given a consumer class with a handle method, as in C++
    @registry.consumer("Build")
    class BuildConsumer:
        instances = 0

        def __init__(self):
            BuildConsumer.instances += 1

        def handle(self, ctx):
            return {"instance": BuildConsumer.instances}

    handler = registry.find_consumer("BuildConsumer").handler

    # When two messages are handled
    outputs = [handler(FakeContext()), handler(FakeContext())]

    # Then each had its own instance
    assert outputs == [{"instance": 1}, {"instance": 2}]


def test_a_consumer_class_without_handle_is_rejected(registry):
    with pytest.raises(RegistrationError, match="needs a handle"):

        @registry.consumer("Build")
        class NotAConsumer:
            pass


def test_a_topic_schema_must_be_json(registry):
    with pytest.raises(RegistrationError, match="schema of topic 'Build' is not JSON"):
        registry.topic("Build", schema={"type": {1, 2}})(type("Build", (), {}))
    with pytest.raises(RegistrationError, match="must be a dict"):
        registry.topic("Build", schema=["not", "a", "schema"])(type("Build", (), {}))


def test_module_level_decorators_fill_the_default_registry(isolated_default_registry):
    # Given definitions made with isoqube.topic / isoqube.consumer
    @isoqube.topic("Ping")
    class Ping:
        pass

    @isoqube.consumer(Ping)
    def pong(ctx):
        return "pong"

    # Then isoqube.topics() and isoqube.consumers() list them
    assert [t.name for t in isoqube.topics()] == ["Ping"]
    assert [c.name for c in isoqube.consumers()] == ["pong"]


def test_an_engine_without_a_registry_uses_the_default_one(isolated_default_registry, make_engine):
    @isoqube.topic("Ping")
    class Ping:
        pass

    @isoqube.consumer(Ping)
    def pong(ctx):
        return "pong"

    engine = make_engine(registry=None)

    assert "Ping" in [t.name for t in engine.topics()]
    assert [c.name for c in engine.consumers()] == ["pong"]


def test_engine_register_takes_decorated_objects_of_a_module(make_engine):
    # Given a module whose members were declared in their own registry
    own = isoqube.Registry()
    module = types.ModuleType("build_service")

    @own.topic("Compile")
    class Compile:
        pass

    @own.consumer(Compile, service="build")
    def compile_sources(ctx):
        return None

    module.Compile = Compile
    module.compile_sources = compile_sources
    module.unrelated = object()
    engine = make_engine()

    # When the module is registered with an engine (twice: harmless)
    engine.register(module)
    engine.register(module)

    # Then the engine knows its topic and consumer
    assert [t.name for t in engine.topics()] == ["Compile"]
    [info] = engine.consumers()
    assert (info.name, info.topic, info.service) == ("compile_sources", "Compile", "build")
    assert info.origin.endswith("compile_sources")


def test_engine_register_rejects_an_undecorated_object(make_engine):
    engine = make_engine()
    with pytest.raises(RegistrationError, match="neither decorated"):
        engine.register(len)


def test_a_consumer_of_an_unknown_topic_fails_when_the_engine_registers_it(registry, make_engine):
    @registry.consumer("NoSuchTopic")
    def orphan(ctx):
        return None

    with pytest.raises(RegistrationError, match="NoSuchTopic"):
        make_engine()
