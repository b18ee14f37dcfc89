"""C++ consumer modules: loaded next to Python consumers, built against the
installed package as a user would build one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import isoqube
import pytest
from conftest import WAIT
from isoqube import Configuration, Step

PACKAGE = Path(isoqube.__file__).absolute().parent
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "build_server" / "linux_pool"
LINUX_TOPICS = {
    "LinuxUbuntu2004Build",
    "LinuxUbuntu2204Build",
    "LinuxUbuntu2404Build",
    "LinuxBuildCompleted",
}


def shipped_linux_pool() -> Path:
    found = sorted((PACKAGE / "services").glob("*linux_pool*.so"))
    if not found:
        pytest.fail(f"the linux pool module is not installed in {PACKAGE / 'services'}")
    return found[0]


def declare_python_side(registry, releases):
    """Python topics around the C++ builds: ingestion before, release after."""

    @registry.consumer(registry.topic("Ingest")(type("Ingest", (), {})))
    def ingest(ctx):
        return {"sources": 3}

    @registry.consumer(registry.topic("Release")(type("Release", (), {})))
    def release(ctx):
        releases.append(ctx.inputs)
        return {"released": ctx.inputs["LinuxBuildCompleted"]["artifacts"]}


def mixed_configuration() -> Configuration:
    return Configuration(
        "mixed",
        [
            Step("Ingest"),
            Step("LinuxUbuntu2004Build", after=["Ingest"]),
            Step("LinuxUbuntu2404Build", after=["Ingest"]),
            Step("LinuxBuildCompleted", after=["LinuxUbuntu2004Build", "LinuxUbuntu2404Build"]),
            Step("Release"),
        ],
    )


def run_mixed(engine) -> isoqube.Run:
    engine.start()
    run = engine.start_run(mixed_configuration(), payload={"work_ms": 0})
    return engine.wait(run, timeout=WAIT)


def assert_mixed_run_completed(run, releases):
    assert run.status == "completed", run.error
    outputs = {s.name: s.output for s in run.steps}
    assert outputs["Ingest"] == {"sources": 3}
    assert outputs["LinuxUbuntu2004Build"]["image"] == "ubuntu-20.04"
    artifacts = outputs["LinuxBuildCompleted"]["artifacts"]
    assert sorted(artifacts) == sorted(
        [outputs["LinuxUbuntu2004Build"]["artifact"], outputs["LinuxUbuntu2404Build"]["artifact"]]
    )
    assert outputs["Release"] == {"released": artifacts}
    assert len(releases) == 1


def test_python_and_cpp_consumers_run_side_by_side_in_one_run(registry, make_engine):
    # Given Python consumers and the shipped C++ linux pool module
    releases = []
    declare_python_side(registry, releases)
    engine = make_engine(modules=[shipped_linux_pool()])

    # Then the module's topics and consumers are registered beside Python's
    assert LINUX_TOPICS <= {t.name for t in engine.topics()}
    services = {c.name: (c.service, c.origin) for c in engine.consumers()}
    assert services["LinuxUbuntu2004BuildConsumer"][0] == "linux-pool"
    assert services["LinuxUbuntu2004BuildConsumer"][1].endswith(".so")
    ingest_origin = f"python:{__name__}.declare_python_side.<locals>.ingest"
    assert services["ingest"] == ("default", ingest_origin)

    # When a run goes Python -> C++ (fan-out, fan-in) -> Python
    run = run_mixed(engine)

    # Then it completed, each side seeing the other's outputs
    assert_mixed_run_completed(run, releases)


def test_a_cpp_failure_fails_the_step_with_its_message(registry, make_engine):
    declare_python_side(registry, [])
    engine = make_engine(modules=[shipped_linux_pool()])
    engine.start()

    run = engine.wait(engine.start_run(
        Configuration("fails", ["Ingest", "LinuxUbuntu2204Build"]),
        payload={"work_ms": 0, "fail": "LinuxUbuntu2204Build"},
    ), timeout=WAIT)

    assert run.status == "failed"
    assert run.steps[1].error == "simulated failure of LinuxUbuntu2204Build"


def test_loading_a_missing_module_raises_module_error_naming_the_path(make_engine, tmp_path):
    missing = tmp_path / "no_such_module.so"
    with pytest.raises(isoqube.ModuleError, match="no_such_module.so"):
        make_engine().load_module(missing)


def test_loading_a_file_that_is_not_a_library_raises_module_error(make_engine, tmp_path):
    fake = tmp_path / "fake.so"
    fake.write_text("not a shared library")
    with pytest.raises(ImportError, match="fake.so"):
        make_engine(modules=[fake])


def test_the_package_ships_its_headers_and_cmake_config():
    assert Path(isoqube.get_cmake_dir(), "isoqubeConfig.cmake").is_file()
    assert Path(isoqube.get_include(), "isoqube", "consumer.h").is_file()


@pytest.mark.skipif(shutil.which("cmake") is None, reason="needs cmake")
def test_a_module_built_against_the_installed_package_runs_in_an_engine(
    registry, make_engine, tmp_path
):
    # Given the linux pool example built on its own against this installation
    build = tmp_path / "build"
    configure = [
        "cmake",
        "-S",
        str(EXAMPLE),
        "-B",
        str(build),
        f"-Disoqube_DIR={isoqube.get_cmake_dir()}",
        "-DCMAKE_BUILD_TYPE=Release",
    ]
    for command in (configure, ["cmake", "--build", str(build), "-j2"]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    [module] = build.glob("*linux_pool*.so")

    # When it is loaded next to Python consumers and a run uses both
    releases = []
    declare_python_side(registry, releases)
    engine = make_engine(modules=[module])
    run = run_mixed(engine)

    # Then its consumers came from the module just built, and the run completed
    origins = {c.origin for c in engine.consumers() if c.service == "linux-pool"}
    assert origins == {str(module)}
    assert_mixed_run_completed(run, releases)
