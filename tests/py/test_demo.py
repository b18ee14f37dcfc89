"""``isoqube demo``: the seed's build-server simulation, end to end, on the
embedded defaults, run as a user runs it (a subprocess of the installed
package in a fresh working folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

_ISOQUBE_VARIABLES = ("ISOQUBE_TRANSPORT", "ISOQUBE_STORE", "ISOQUBE_LOG_LEVEL")
TIMEOUT = 120

# (service, consumer, topic) of every step, in configuration order.
CONSUMERS = [
    ("default", "DefaultIngestionConsumer", "DefaultSourceIngestion"),
    ("default", "DefaultSourceDownloadConsumer", "DefaultSourceDownload"),
    ("default", "DefaultSourceDownloadCompleteConsumer", "DefaultSourceDownloadComplete"),
    ("linux-pool", "LinuxUbuntu2004BuildConsumer", "LinuxUbuntu2004Build"),
    ("linux-pool", "LinuxUbuntu2204BuildConsumer", "LinuxUbuntu2204Build"),
    ("linux-pool", "LinuxUbuntu2404BuildConsumer", "LinuxUbuntu2404Build"),
    ("linux-pool", "LinuxBuildCompletedConsumer", "LinuxBuildCompleted"),
    ("windows-pool", "Windows2019BuildConsumer", "Windows2019Build"),
    ("windows-pool", "Windows2022BuildConsumer", "Windows2022Build"),
    ("windows-pool", "Windows2025BuildConsumer", "Windows2025Build"),
    ("windows-pool", "WindowsBuildCompletedConsumer", "WindowsBuildCompleted"),
    ("deployment", "DeployToVmConsumer", "DeployToVm"),
    ("deployment", "DeployToContainerConsumer", "DeployToContainer"),
    ("deployment", "DeploymentCompletedConsumer", "DeploymentCompleted"),
    ("deployment", "BroadcastReleaseConsumer", "BroadcastRelease"),
]
TOPICS = [topic for _, _, topic in CONSUMERS]
LINUX_BUILDS = ["LinuxUbuntu2004Build", "LinuxUbuntu2204Build", "LinuxUbuntu2404Build"]


def isoqube(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in _ISOQUBE_VARIABLES}
    env["NO_COLOR"] = "1"
    return subprocess.run([sys.executable, "-m", "isoqube", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)


def when(text):
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def steps_by_name(run: dict) -> dict:
    return {step["name"]: step for step in run["steps"]}


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def demo_json(demo_folder):
    """One completed demo run, as JSON, with enough work per step that
    parallel steps visibly overlap."""
    result = isoqube("demo", "--json", "--work-ms", "200", cwd=demo_folder)
    assert result.returncode == 0, result.stderr
    return result, json.loads(result.stdout)


class TestDemoCompletes:
    def test_the_demo_prints_a_log_line_per_step_and_a_table(self, tmp_path):
        # When the demo runs on the embedded defaults
        result = isoqube("demo", "--work-ms", "20", cwd=tmp_path)

        # Then it exits 0, having logged each consumed event...
        assert result.returncode == 0, result.stderr
        run_id = result.stdout.strip().splitlines()[-1].split()[1]
        for service, consumer, topic in CONSUMERS:
            line = (f"[isoqube.{service}] {consumer} consumed {topic} "
                    f"(run {run_id}, step {topic}, attempt 1)")
            assert line in result.stderr
        # ...and printed a table of the steps and a summary
        rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line}
        assert rows["step"][:6] == ["step", "status", "attempts", "invoked", "completed",
                                    "duration"]
        for topic in TOPICS:
            assert rows[topic][1:3] == ["completed", "1"]
        summary = result.stdout.strip().splitlines()[-1]
        assert summary.startswith(f"run {run_id} completed in ")
        assert summary.endswith("(15/15 steps completed)")
        # ...in the working folder's SQLite store
        assert (tmp_path / "isoqube.db").is_file()

    def test_the_json_output_is_only_the_run(self, demo_json):
        result, run = demo_json

        assert run["status"] == "completed"
        assert run["configurationName"] == "build-server"
        assert run["payload"]["work_ms"] == 200
        assert "consumed DefaultSourceIngestion" in result.stderr
        assert "consumed" not in result.stdout

    def test_every_step_completed_once(self, demo_json):
        _, run = demo_json

        assert [step["topic"] for step in run["steps"]] == TOPICS
        for step in run["steps"]:
            assert (step["status"], step["attempts"]) == ("completed", 1), step
            assert step["invokedOn"] is not None
            assert when(step["invokedOn"]) <= when(step["completedOn"])
            assert step["completedOn"] == step["succeededOn"]
            assert step["failedOn"] is None and step["retriedOn"] is None

    def test_the_steps_follow_the_build_server_order(self, demo_json):
        _, run = demo_json
        steps = steps_by_name(run)

        assert steps["DefaultSourceIngestion"]["after"] == []
        assert steps["DefaultSourceDownload"]["after"] == ["DefaultSourceIngestion"]
        for build in LINUX_BUILDS:
            assert steps[build]["after"] == ["DefaultSourceDownloadComplete"]
        assert sorted(steps["LinuxBuildCompleted"]["after"]) == sorted(LINUX_BUILDS)
        assert steps["Windows2022Build"]["after"] == ["LinuxBuildCompleted"]
        assert sorted(steps["DeploymentCompleted"]["after"]) == ["DeployToContainer",
                                                                 "DeployToVm"]
        assert steps["BroadcastRelease"]["after"] == ["DeploymentCompleted"]

    def test_no_step_started_before_its_dependencies_completed(self, demo_json):
        _, run = demo_json
        steps = steps_by_name(run)

        for step in run["steps"]:
            for dependency in step["after"]:
                assert when(step["invokedOn"]) >= when(steps[dependency]["completedOn"]), (
                    step["name"], dependency)

    def test_parallel_builds_overlap_in_time(self, demo_json):
        # The three Linux builds wait for the same step, so they run together.
        _, run = demo_json
        builds = [steps_by_name(run)[name] for name in LINUX_BUILDS]

        last_start = max(when(b["invokedOn"]) for b in builds)
        first_end = min(when(b["completedOn"]) for b in builds)
        assert last_start < first_end

    def test_cpp_and_python_consumers_returned_their_outputs(self, demo_json):
        _, run = demo_json
        steps = steps_by_name(run)

        assert steps["LinuxUbuntu2204Build"]["output"]["image"] == "ubuntu-22.04"
        assert len(steps["LinuxBuildCompleted"]["output"]["artifacts"]) == 3
        assert steps["Windows2019Build"]["output"]["image"] == "windows-2019"
        assert steps["Windows2019Build"]["output"]["service"] == "windows-pool"
        assert steps["DeployToVm"]["output"]["duration_ms"] >= 200


class TestAfterTheDemo:
    def test_runs_list_reads_the_demo_run_from_the_same_store(self, demo_folder, demo_json):
        _, run = demo_json

        listed = json.loads(isoqube("runs", "list", "--json", cwd=demo_folder).stdout)
        table = isoqube("runs", "list", cwd=demo_folder)

        assert run["id"] in [r["id"] for r in listed]
        row = next(line for line in table.stdout.splitlines() if line.startswith(run["id"]))
        assert "build-server" in row and "completed" in row and "15/15" in row

    def test_runs_show_prints_the_demo_run_and_its_steps(self, demo_folder, demo_json):
        _, run = demo_json

        shown = isoqube("runs", "show", run["id"][:8], cwd=demo_folder)
        as_json = json.loads(isoqube("runs", "show", run["id"], "--json", cwd=demo_folder).stdout)

        assert shown.returncode == 0, shown.stderr
        assert run["id"] in shown.stdout
        for topic in TOPICS:
            assert topic in shown.stdout
        assert as_json == run

    def test_the_configuration_is_saved_under_its_name(self, demo_folder, demo_json):
        shown = json.loads(isoqube("configs", "show", "build-server", "--json",
                                   cwd=demo_folder).stdout)

        assert [step["topic"] for step in shown["steps"]] == TOPICS

    def test_topics_lists_every_service_topic_saved_by_the_demo(self, demo_folder, demo_json):
        listed = json.loads(isoqube("topics", "--json", cwd=demo_folder).stdout)

        names = {topic["name"] for topic in listed}
        assert set(TOPICS) <= names

    def test_watching_the_finished_demo_run_replays_its_transitions(self, demo_folder,
                                                                    demo_json):
        _, run = demo_json

        result = isoqube("runs", "watch", run["id"], cwd=demo_folder)

        assert result.returncode == 0, result.stderr
        lines = [" ".join(line.split()[1:]) for line in result.stdout.splitlines()]
        for topic in TOPICS:
            # Each claim says which process ran the step: "(on host:pid)".
            assert any(line.startswith(f"{topic} queued -> running (on ") for line in lines)
            assert f"{topic} running -> completed" in lines
        assert lines.index("run running -> completed") == len(lines) - 2
        assert result.stdout.strip().splitlines()[-1].startswith(f"run {run['id']} completed")


class TestDemoFailure:
    @pytest.mark.parametrize("topic", ["LinuxUbuntu2204Build", "Windows2025Build"],
                             ids=["cpp-consumer", "python-consumer"])
    def test_a_failing_step_is_retried_then_fails_the_run(self, tmp_path, topic):
        # When the demo runs with one topic failing on every attempt
        result = isoqube("demo", "--fail", topic, "--work-ms", "20", "--json", cwd=tmp_path)

        # Then it exits 1 with the reason, after three attempts of that step
        assert result.returncode == 1
        run = json.loads(result.stdout)
        assert run["status"] == "failed"
        assert f"simulated failure of {topic}" in run["error"]
        assert f"simulated failure of {topic}" in result.stderr.strip().splitlines()[-1]
        step = steps_by_name(run)[topic]
        assert (step["status"], step["attempts"]) == ("failed", 3)
        assert step["retriedOn"] is not None and step["failedOn"] is not None
        # (a Python consumer's error names the exception type first)
        assert step["error"].endswith(f"simulated failure of {topic}")
        for attempt in (1, 2, 3):
            assert f"consumed {topic} (run {run['id']}, step {topic}, attempt {attempt})" in (
                result.stderr)
        # ...and nothing after it ran
        assert steps_by_name(run)["BroadcastRelease"]["invokedOn"] is None

    def test_failing_an_unknown_topic_is_one_line(self, tmp_path):
        result = isoqube("demo", "--fail", "CompileTheUniverse", cwd=tmp_path)

        assert result.returncode == 2
        assert result.stderr.count("\n") == 1
        assert result.stderr.startswith("isoqube: error: ")
        assert "CompileTheUniverse" in result.stderr

    def test_the_demo_on_a_memory_store_leaves_no_file(self, tmp_path):
        result = isoqube("demo", "--work-ms", "0", "--store", "memory://", cwd=tmp_path)

        assert result.returncode == 0, result.stderr
        assert list(tmp_path.iterdir()) == []
