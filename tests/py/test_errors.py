"""C++ exceptions arrive as the isoqube.errors classes; bad input is named."""

from __future__ import annotations

import builtins
import math
import threading

import isoqube
import pytest
from conftest import WAIT
from isoqube import _core, errors

ERROR_CLASSES = [
    ("Error", Exception),
    ("ConfigurationError", ValueError),
    ("RegistrationError", ValueError),
    ("NotFoundError", LookupError),
    ("MessageError", ValueError),
    ("TransportError", ConnectionError),
    ("StoreError", Exception),
    ("ModuleError", ImportError),
    ("TimeoutError", builtins.TimeoutError),
]


@pytest.mark.parametrize(("name", "builtin"), ERROR_CLASSES)
def test_each_cpp_exception_becomes_the_python_class_of_the_same_name(name, builtin):
    # When the core throws isoqube::<name>
    with pytest.raises(errors.Error) as raised:
        _core._raise_error(name, f"{name} happened: details")

    # Then Python sees isoqube.errors.<name> with the same message, which is
    # also the closest built-in exception
    assert type(raised.value) is getattr(errors, name)
    assert str(raised.value) == f"{name} happened: details"
    assert isinstance(raised.value, builtin)
    assert getattr(isoqube, name) is getattr(errors, name)


@pytest.mark.parametrize(("config", "field", "problem"), [
    ({"name": "x", "steps": [{"topic": "Greet", "retry": {"attempts": "3"}}]},
     "steps[0].retry.attempts", "'steps[0].retry.attempts' must be an integer, got string"),
    ({"name": "x", "steps": [{"topic": "Greet", "retry": {"attempts": 0}}]},
     "steps[0].retry.attempts", "step 'Greet' has retry attempts 0; expected 1 to 100"),
    ({"name": "x", "steps": ["Greet", "Greet"]},
     "steps[1].name", "duplicate step name 'Greet' (steps 1 and 2); give one of them its own name"),
    ({"steps": ["Greet"]}, "name", "configuration has no name"),
], ids=["type", "range", "duplicate", "no-name"])
def test_a_configuration_error_carries_its_field_and_problem_as_data(config, field, problem):
    registry = isoqube.Registry()
    registry.topic("Greet")(type("Greet", (), {}))
    engine = isoqube.Engine("memory://", "memory://", registry=registry)

    with pytest.raises(isoqube.ConfigurationError) as raised:
        engine.save_configuration(config)

    assert (raised.value.field, raised.value.problem) == (field, problem)
    assert problem in str(raised.value)


def test_a_configuration_error_raised_in_python_has_no_field():
    error = isoqube.ConfigurationError("concurrency must be at least 1")
    assert (error.field, error.problem) == (None, "concurrency must be at least 1")


def test_a_bad_store_uri_raises_configuration_error_naming_it():
    with pytest.raises(isoqube.ConfigurationError, match="nosuchdb://somewhere"):
        isoqube.Engine("memory://", "nosuchdb://somewhere", registry=isoqube.Registry())


def test_a_bad_transport_uri_raises_configuration_error_naming_it():
    with pytest.raises(isoqube.ConfigurationError, match="carrier-pigeon://coop"):
        isoqube.Engine("carrier-pigeon://coop", "memory://", registry=isoqube.Registry())


def test_a_uri_without_a_scheme_is_a_configuration_error():
    with pytest.raises(isoqube.ConfigurationError, match="just-a-path"):
        isoqube.Engine("memory://", "just-a-path", registry=isoqube.Registry())


def test_a_bad_concurrency_is_a_configuration_error():
    with pytest.raises(isoqube.ConfigurationError, match="concurrency"):
        isoqube.Engine("memory://", "memory://", concurrency=0, registry=isoqube.Registry())


def test_unknown_runs_and_configurations_raise_not_found(make_engine):
    engine = make_engine()

    with pytest.raises(isoqube.NotFoundError, match="no-such-run"):
        engine.run("no-such-run")
    with pytest.raises(isoqube.NotFoundError, match="no-such-run"):
        engine.wait("no-such-run", timeout=1)
    with pytest.raises(isoqube.NotFoundError, match="no-such-config"):
        engine.configuration("no-such-config")
    with pytest.raises(isoqube.NotFoundError, match="no-such-config"):
        engine.start_run("no-such-config")
    with pytest.raises(LookupError):
        engine.rerun("no-such-run")


def test_publishing_an_unknown_topic_raises_not_found(make_engine):
    engine = make_engine()
    with pytest.raises(isoqube.NotFoundError, match="Unheard"):
        engine.publish("Unheard")


def test_waiting_too_long_raises_timeout_error_naming_the_run(registry, make_engine):
    # Given a run whose only step is held by its consumer
    release = threading.Event()

    @registry.consumer(registry.topic("Idle")(type("Idle", (), {})))
    def idle(ctx):
        release.wait(WAIT)

    engine = make_engine()
    engine.start()
    run = engine.start_run(isoqube.Configuration("idle", ["Idle"]))

    # When it is waited for briefly
    try:
        with pytest.raises(TimeoutError, match=f"run {run.id} is still running after 0.05 s"):
            engine.wait(run.id, timeout=0.05)
    finally:
        release.set()


def test_a_negative_timeout_is_a_configuration_error(make_engine):
    with pytest.raises(isoqube.ConfigurationError, match="timeout"):
        make_engine().wait("any", timeout=-1)


def test_an_unknown_log_level_is_a_configuration_error():
    with pytest.raises(isoqube.ConfigurationError, match="loud"):
        isoqube.set_log_level("loud")


def test_the_log_level_can_be_read_back_after_setting_it():
    before = isoqube.log_level()
    try:
        isoqube.set_log_level("debug")
        assert isoqube.log_level() == "debug"
        isoqube.set_log_level("warn")
        assert isoqube.log_level() == "warning"
    finally:
        isoqube.set_log_level(before)


def test_python_code_logs_through_the_isoqube_loggers(capfd):
    log = isoqube.logger("tests")
    log.warning("disk %d%% full {not a format}", 93)

    assert log.name == "isoqube.tests"
    assert "[isoqube.tests] disk 93% full {not a format}" in capfd.readouterr().err


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**63),
        2**64 - 1,
        1.5,
        "naïve ✓",
        [],
        {},
        {"nested": [1, {"deep": [None, False, "x"]}], "tuple": [1, 2]},
    ],
)
def test_json_values_cross_the_boundary_unchanged(value):
    assert _core.to_json_value(value) == value
    assert type(_core.to_json_value(value)) is type(value)


def test_tuples_become_lists():
    assert _core.to_json_value({"t": (1, (2, 3))}) == {"t": [1, [2, 3]]}


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ({"files": [1, {2, 3}]}, TypeError, r"set at \$\.files\[1\] is not JSON-serialisable"),
        ({1: "a"}, TypeError, r"dict key 1 of type int at \$ is not a str"),
        (b"bytes", TypeError, "bytes at"),
        ({"when": object()}, TypeError, r"object at \$\.when"),
        ({"ratio": math.nan}, ValueError, r"float nan at \$\.ratio is not valid JSON"),
        ([math.inf], ValueError, r"float inf at \$\[0\]"),
        (2**64, ValueError, "does not fit in 64 bits"),
        (-(2**63) - 1, ValueError, "does not fit in 64 bits"),
    ],
)
def test_values_that_are_not_json_are_rejected_naming_type_and_place(value, error, message):
    with pytest.raises(error, match=message):
        _core.to_json_value(value)


def nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels - 1):
        value = {"n": value}
    return value


def test_values_nest_at_most_64_levels_as_on_every_other_path():
    assert _core.to_json_value(nested(64)) == nested(64)
    with pytest.raises(ValueError, match=r"nested deeper than 64 levels"):
        _core.to_json_value(nested(65))


def test_a_structure_containing_itself_is_rejected():
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nested deeper than"):
        _core.to_json_value(loop)


def test_a_configuration_is_normalized_as_the_engine_would():
    config = isoqube.Configuration("two", ["A", isoqube.Step("B", name="b")])

    normalized = config.normalized()

    assert [(s.name, s.after) for s in normalized.steps] == [("A", []), ("b", ["A"])]
    assert config.steps[1].after is None


def test_a_configuration_whose_steps_wait_for_each_other_is_rejected_naming_the_cycle():
    config = isoqube.Configuration(
        "loop", [isoqube.Step("A", after=["B"]), isoqube.Step("B", after=["A"])]
    )

    with pytest.raises(isoqube.ConfigurationError, match="cycle: 'A' -> 'B' -> 'A'"):
        config.normalized()


def test_payloads_must_be_dicts(registry, make_engine):
    registry.topic("Ping")(type("Ping", (), {}))
    engine = make_engine()

    with pytest.raises(TypeError, match="payload must be a dict, not list"):
        engine.publish("Ping", [1, 2])
    with pytest.raises(TypeError, match="payload must be a dict"):
        engine.start_run(isoqube.Configuration("c", ["Ping"]), payload="x")
