"""The ``isoqube`` command line, run as users run it: a subprocess of the
installed package, in a fresh working folder (where the default SQLite store
lands)."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import queue
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import ROOT, wait_until

_ISOQUBE_VARIABLES = ("ISOQUBE_TRANSPORT", "ISOQUBE_STORE", "ISOQUBE_LOG_LEVEL")
TIMEOUT = 60

# A user's service: two topics, one after the other. Its consumers read
# files in the working folder so tests can steer them without sleeping:
# "fail-shout" makes Shout fail, "hold-shout" keeps Shout running until it
# is removed (or the run is cancelled).
GREETER = textwrap.dedent('''
    import os
    import time

    import isoqube


    @isoqube.topic("Greet", description="Say hello")
    class Greet:
        pass


    @isoqube.topic("Shout", description="Say it loud")
    class Shout:
        pass


    @isoqube.consumer(Greet, service="greeter", name="GreetConsumer")
    def greet(ctx):
        who = ctx.payload.get("who", "world")
        ctx.log.info(f"GreetConsumer greets {who}")
        return {"greeting": f"hello {who}"}


    @isoqube.consumer(Shout, service="greeter", name="ShoutConsumer")
    def shout(ctx):
        deadline = time.monotonic() + 30
        while os.path.exists("hold-shout") and not ctx.cancelled:
            if time.monotonic() > deadline:
                raise RuntimeError("hold-shout was never removed")
            time.sleep(0.02)
        if os.path.exists("fail-shout"):
            raise RuntimeError("shout failed: fail-shout exists")
        return {"shout": ctx.inputs["Greet"]["greeting"].upper()}
''')

GREETING_CONFIG = {
    "name": "greeting",
    "description": "hello, then loud",
    "steps": [{"topic": "Greet"}, {"topic": "Shout", "retry": {"attempts": 2, "intervalMs": 50}}],
}


def _environment() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _ISOQUBE_VARIABLES}
    env["NO_COLOR"] = "1"
    return env


def isoqube(*args: str, cwd: Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "isoqube", *args], cwd=cwd, env=_environment(),
                          capture_output=True, text=True, timeout=timeout)


class LineReader:
    """Lines of a child's pipe, read on a thread so that waiting for one has
    a deadline (and the child never blocks on a full pipe)."""

    def __init__(self, stream):
        self._stream = stream
        self._lines: queue.Queue = queue.Queue()
        self.seen: list = []
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        for line in self._stream:
            self._lines.put(line)
        self._lines.put(None)

    def until(self, wanted: str, timeout: float = TIMEOUT) -> str:
        """The first line containing ``wanted``, already read or waited for
        (runs of spaces in a line count as one, so aligned columns match)."""
        for line in self.seen:
            if wanted in " ".join(line.split()):
                return line
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no line with {wanted!r}; got: {''.join(self.seen)}")
            self.seen.append(line)
            if wanted in " ".join(line.split()):
                return line

    def rest(self) -> str:
        """The unread lines up to the end of the stream (the child ended)."""
        self._thread.join(TIMEOUT)
        chunks = []
        while (line := self._lines.get_nowait()) is not None:
            chunks.append(line)
        return "".join(chunks)

    def close(self) -> None:
        self._thread.join(TIMEOUT)
        self._stream.close()


class Child:
    """A running ``isoqube`` command; killed, if still running, on exit."""

    def __init__(self, *args: str, cwd: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "isoqube", *args], cwd=cwd, env=_environment(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stdout = LineReader(self.process.stdout)
        self.stderr = LineReader(self.process.stderr)

    def wait(self) -> int:
        return self.process.wait(timeout=TIMEOUT)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        self.stdout.close()
        self.stderr.close()


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str,
                          status: int = 2) -> str:
    assert result.returncode == status, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("isoqube: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


STARTED = "isoqube: run "


def started_run_id(stderr: str) -> str:
    """The id in the "isoqube: run <id> of <config> started" line."""
    line = next(line for line in stderr.splitlines() if line.startswith(STARTED))
    return line.split()[2]


def show_run(folder: Path, run_id: str) -> dict:
    return json.loads(isoqube("runs", "show", run_id, "--json", cwd=folder).stdout)


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value))
    return path


@pytest.fixture
def greeter(tmp_path: Path) -> Path:
    (tmp_path / "greeter.py").write_text(GREETER)
    write_json(tmp_path / "greeting.json", GREETING_CONFIG)
    return tmp_path


def create_greeting(folder: Path) -> None:
    result = isoqube("configs", "create", "greeting.json", "--import", "greeter.py", cwd=folder)
    assert result.returncode == 0, result


class TestGlobalOptions:
    def test_version_prints_the_installed_package_version(self, tmp_path):
        from importlib.metadata import version

        result = isoqube("--version", cwd=tmp_path)

        assert result.returncode == 0, result
        assert result.stdout.strip() == f"isoqube {version('isoqube')}"

    def test_the_isoqube_entry_point_runs_the_same_command(self, tmp_path):
        script = Path(sys.executable).parent / "isoqube"

        result = subprocess.run([str(script), "--version"], cwd=tmp_path, env=_environment(),
                                capture_output=True, text=True, timeout=TIMEOUT)

        assert result.returncode == 0, result
        assert result.stdout.startswith("isoqube ")

    def test_cmakedir_names_the_folder_of_the_installed_cmake_package(self, tmp_path):
        result = isoqube("--cmakedir", cwd=tmp_path)

        assert result.returncode == 0, result
        folder = Path(result.stdout.strip())
        assert (folder / "isoqubeConfig.cmake").is_file()
        assert (folder / "isoqubeConfigVersion.cmake").is_file()

    def test_help_lists_every_command(self, tmp_path):
        result = isoqube("--help", cwd=tmp_path)

        assert result.returncode == 0
        for command in ("demo", "topics", "configs", "runs", "worker"):
            assert command in result.stdout

    def test_no_command_is_one_line_listing_the_commands(self, tmp_path):
        assert_one_line_error(isoqube(cwd=tmp_path), "demo", "runs", "worker")

    def test_a_command_group_without_its_command_lists_them(self, tmp_path):
        assert_one_line_error(isoqube("runs", cwd=tmp_path), "start", "watch", "runs --help")

    def test_an_unknown_option_is_one_line_and_exit_2(self, tmp_path):
        assert_one_line_error(isoqube("runs", "list", "--colour", cwd=tmp_path), "--colour")

    def test_an_unknown_log_level_is_one_line_naming_it(self, tmp_path):
        result = isoqube("--log-level", "chatty", "runs", "list", cwd=tmp_path)

        assert_one_line_error(result, "chatty")

    def test_a_store_uri_of_unknown_scheme_is_one_line_naming_it(self, tmp_path):
        result = isoqube("--store", "nosuch://somewhere", "runs", "list", cwd=tmp_path)

        assert_one_line_error(result, "nosuch://somewhere")

    def test_a_transport_uri_of_unknown_scheme_is_one_line_naming_it(self, tmp_path):
        result = isoqube("runs", "list", "--transport", "carrier-pigeon://loft", cwd=tmp_path)

        assert_one_line_error(result, "carrier-pigeon://loft")

    def test_global_options_are_accepted_after_the_command_too(self, tmp_path):
        elsewhere = tmp_path / "elsewhere.db"

        result = isoqube("runs", "list", "--store", f"sqlite://{elsewhere}", cwd=tmp_path)

        assert result.returncode == 0, result
        assert elsewhere.exists()
        assert not (tmp_path / "isoqube.db").exists()

    def test_debug_shows_the_traceback_of_an_error(self, tmp_path):
        result = isoqube("--debug", "runs", "show", "no-such-run", cwd=tmp_path)

        assert result.returncode != 0
        assert "Traceback" in result.stderr


class TestConfigs:
    def test_a_configuration_created_from_json_is_shown_with_its_steps(self, greeter):
        # Given a JSON configuration of the greeter's topics
        # When it is created, then shown
        create_greeting(greeter)
        result = isoqube("configs", "show", "greeting", cwd=greeter)

        # Then its steps are listed in order, with the retry policy
        assert result.returncode == 0, result
        assert "hello, then loud" in result.stdout
        lines = result.stdout.splitlines()
        greet = next(i for i, line in enumerate(lines) if line.startswith("Greet "))
        shout = next(i for i, line in enumerate(lines) if line.startswith("Shout "))
        assert greet < shout
        assert "2 attempts" in lines[shout]

    def test_configs_show_json_has_the_normalized_steps(self, greeter):
        create_greeting(greeter)

        shown = json.loads(isoqube("configs", "show", "greeting", "--json", cwd=greeter).stdout)

        assert shown["name"] == "greeting"
        assert shown["id"]
        assert [s["name"] for s in shown["steps"]] == ["Greet", "Shout"]
        assert shown["steps"][1]["after"] == ["Greet"]
        assert shown["steps"][1]["retry"]["attempts"] == 2

    def test_a_configuration_created_from_toml_is_listed(self, greeter):
        # Given a TOML configuration with parallel steps
        (greeter / "fanout.toml").write_text(textwrap.dedent('''
            name = "fanout"
            description = "greet twice in parallel"

            [[steps]]
            name = "first"
            topic = "Greet"
            after = []

            [[steps]]
            name = "second"
            topic = "Greet"
            after = []
            payload = { who = "moon" }

            [[steps]]
            topic = "Shout"
            after = ["first", "second"]
            retry = { attempts = 3, intervalMs = 100, backoff = 2.0 }
        '''))

        # When it is created
        created = isoqube("configs", "create", "fanout.toml", "--import", "greeter.py",
                          cwd=greeter)

        # Then it is saved as written and listed
        assert created.returncode == 0, created
        assert "fanout" in created.stdout
        shown = json.loads(isoqube("configs", "show", "fanout", "--json", cwd=greeter).stdout)
        assert [s["after"] for s in shown["steps"]] == [[], [], ["first", "second"]]
        assert shown["steps"][1]["payload"] == {"who": "moon"}
        assert shown["steps"][2]["retry"] == {"attempts": 3, "intervalMs": 100, "backoff": 2.0}
        listed = isoqube("configs", "list", cwd=greeter)
        assert "fanout" in listed.stdout
        assert "greet twice in parallel" in listed.stdout

    def test_creating_a_configuration_again_replaces_it(self, greeter):
        create_greeting(greeter)
        write_json(greeter / "greeting.json", {**GREETING_CONFIG, "description": "changed"})

        create_greeting(greeter)
        listed = json.loads(isoqube("configs", "list", "--json", cwd=greeter).stdout)

        assert [(c["name"], c["description"]) for c in listed] == [("greeting", "changed")]

    @pytest.mark.parametrize(("content", "fragment"), [
        ('{"name": "broken", "steps": [', "at line 1"),
        ('["Greet", "Shout"]', "must be an object"),
        ('{"name": "x", "steps": [{"topic": "NoSuchTopic"}]}', "NoSuchTopic"),
        ('{"name": "x", "steps": [{"topic": "Greet", "after": ["Shout"]},'
         ' {"topic": "Shout", "after": ["Greet"]}]}', "cycle"),
        ('{"name": "x", "steps": ["Greet", "Greet"]}', "Greet"),
        ('{"name": "x", "steps": [{"topic": "Greet", "after": ["Nowhere"]}]}', "Nowhere"),
        ('{"name": "x", "steps": []}', "step"),
        ('{"name": "x", "steps": [{"topic": "Greet", "retry": {"attempts": 0}}]}', "attempts"),
    ], ids=["bad-json", "not-an-object", "unknown-topic", "cycle", "duplicate-step",
            "unknown-after", "no-steps", "bad-retry"])
    def test_a_malformed_configuration_file_is_one_line_naming_the_file(
            self, greeter, content, fragment):
        (greeter / "bad.json").write_text(content)

        result = isoqube("configs", "create", "bad.json", "--import", "greeter.py", cwd=greeter)

        assert_one_line_error(result, "bad.json", fragment)
        assert isoqube("configs", "list", "--json", cwd=greeter).stdout.strip() == "[]"

    def test_a_toml_retry_interval_in_seconds_is_saved_in_milliseconds(self, greeter):
        (greeter / "retry.toml").write_text(textwrap.dedent('''
            name = "patient"
            [[steps]]
            topic = "Greet"
            retry = { attempts = 2, interval = 0.5 }
        '''))

        created = isoqube("configs", "create", "retry.toml", "--json", "--import", "greeter.py",
                          cwd=greeter)

        assert created.returncode == 0, created
        assert json.loads(created.stdout)["steps"][0]["retry"] == {
            "attempts": 2, "intervalMs": 500, "backoff": 1.0}

    def test_toml_dates_and_times_are_saved_as_iso_8601_text(self, greeter):
        (greeter / "dated.toml").write_text(textwrap.dedent('''
            name = "dated"
            [[steps]]
            topic = "Greet"
            [steps.payload]
            at = 1979-05-27T07:32:00Z
            local = 1979-05-27T07:32:00.5
            day = 1979-05-27
            time = 07:32:00
            in = [1979-05-28]
        '''))

        created = isoqube("configs", "create", "dated.toml", "--json", "--import", "greeter.py",
                          cwd=greeter)

        assert created.returncode == 0, created
        assert json.loads(created.stdout)["steps"][0]["payload"] == {
            "at": "1979-05-27T07:32:00+00:00", "local": "1979-05-27T07:32:00.500000",
            "day": "1979-05-27", "time": "07:32:00", "in": ["1979-05-28"]}

    @pytest.mark.parametrize(("step", "key", "accepted"), [
        ('topic = "Greet"\nretries = 3', "steps[0].retries", "name, topic, after, retry"),
        ('topic = "Greet"\nretry = { attempts = 2, delay = 5 }', "steps[0].retry.delay",
         "attempts, interval, intervalMs, backoff"),
        ('topic = "Greet"\nretry = { interval = 0.5, intervalMs = 500 }',
         "steps[0].retry.interval", "both given"),
    ], ids=["step-key", "retry-key", "both-units"])
    def test_a_configuration_file_with_a_key_isoqube_does_not_read_is_refused_naming_it(
            self, greeter, step, key, accepted):
        (greeter / "stray.toml").write_text(f'name = "stray"\n[[steps]]\n{step}\n')

        result = isoqube("configs", "create", "stray.toml", "--import", "greeter.py",
                         cwd=greeter)

        assert_one_line_error(result, "stray.toml", f"'{key}'")
        assert accepted in result.stderr
        assert isoqube("configs", "list", "--json", cwd=greeter).stdout.strip() == "[]"

    def test_what_configs_show_json_prints_is_accepted_by_configs_create(self, greeter):
        create_greeting(greeter)
        shown = isoqube("configs", "show", "greeting", "--json", cwd=greeter).stdout
        (greeter / "shown.json").write_text(shown.replace("hello, then loud", "again"))

        result = isoqube("configs", "create", "shown.json", "--json", cwd=greeter)

        assert result.returncode == 0, result
        again = json.loads(result.stdout)
        assert again == {**json.loads(shown), "description": "again"}

    @pytest.mark.parametrize(("name", "content", "says"), [
        ("deep.json", '{"name": "x", "steps": [{"topic": "Greet", "payload": {"a": '
         + "[" * 200 + "]" * 200 + "}}]}", "levels deep; at most 72"),
        ("deep.toml", 'name = "x"\n[[steps]]\ntopic = "Greet"\npayload = { a = '
         + "[" * 200 + "]" * 200 + " }\n", "levels deep"),
        ("nan.json", '{"name": "x", "steps": [{"topic": "Greet", "payload": {"a": NaN}}]}',
         "NaN"),
        ("nan.toml", 'name = "x"\n[[steps]]\ntopic = "Greet"\npayload = { a = nan }\n',
         "nan is not a finite number"),
    ], ids=["deep-json", "deep-toml", "nan-json", "nan-toml"])
    def test_a_configuration_file_beyond_the_json_limits_is_refused(self, greeter, name,
                                                                   content, says):
        (greeter / name).write_text(content)

        result = isoqube("configs", "create", name, "--import", "greeter.py", cwd=greeter)

        assert_one_line_error(result, name, says)
        assert isoqube("configs", "list", "--json", cwd=greeter).stdout.strip() == "[]"

    def test_the_toml_example_of_the_docs_is_saved_as_documented(self, tmp_path):
        docs = (ROOT / "docs" / "configuration.md").read_text()
        (tmp_path / "build.toml").write_text(
            re.search(r"```toml\n(.*?)```", docs, re.DOTALL).group(1))

        result = isoqube("configs", "create", "build.toml", "--json", cwd=tmp_path)

        assert result.returncode == 0, result
        steps = json.loads(result.stdout)["steps"]
        assert [(s["name"], s["after"]) for s in steps] == [
            ("Fetch", []), ("BuildLinux", ["Fetch"]), ("BuildWindows", ["Fetch"]),
            ("Deploy", ["BuildLinux", "BuildWindows"])]
        assert steps[2]["retry"] == {"attempts": 3, "intervalMs": 500, "backoff": 2.0}

    def test_configs_schema_prints_the_json_schema_of_configurations(self, tmp_path):
        result = isoqube("configs", "schema", cwd=tmp_path)

        schema = json.loads(result.stdout)
        assert schema["$schema"].endswith("2020-12/schema")
        assert schema["$defs"]["retry"]["additionalProperties"] is False

    def test_a_malformed_toml_file_is_one_line_naming_the_file(self, greeter):
        (greeter / "bad.toml").write_text('name = "x"\n[[steps]\n')

        result = isoqube("configs", "create", "bad.toml", cwd=greeter)

        assert_one_line_error(result, "bad.toml", "invalid TOML")

    def test_a_missing_configuration_file_is_one_line_naming_it(self, tmp_path):
        result = isoqube("configs", "create", "absent.json", cwd=tmp_path)

        assert_one_line_error(result, "absent.json")

    def test_showing_an_unknown_configuration_is_one_line(self, tmp_path):
        assert_one_line_error(isoqube("configs", "show", "nothing", cwd=tmp_path), "nothing")


class TestTopics:
    def test_topics_lists_imported_topics_with_their_consumers(self, greeter):
        result = isoqube("topics", "--import", "greeter.py", cwd=greeter)

        assert result.returncode == 0, result
        greet = next(line for line in result.stdout.splitlines() if line.startswith("Greet "))
        assert "Say hello" in greet
        assert "greet" in greet  # the kebab-case entity name
        assert "GreetConsumer (greeter)" in greet

    def test_topics_json_has_names_and_descriptions(self, greeter):
        result = isoqube("topics", "--json", "--import", "greeter.py", cwd=greeter)

        topics = {t["name"]: t for t in json.loads(result.stdout)}
        assert topics["Shout"]["description"] == "Say it loud"

    def test_an_unknown_python_module_is_one_line_naming_it(self, tmp_path):
        result = isoqube("topics", "--import", "no_such_module_here", cwd=tmp_path)

        assert_one_line_error(result, "no_such_module_here")

    @pytest.mark.parametrize(("source", "fragment"), [
        ("def broken(:\n", "SyntaxError"),
        ("raise RuntimeError('no database configured')\n", "no database configured"),
        ("import isoqube\n@isoqube.topic('Not An Identifier')\nclass X: pass\n",
         "Not An Identifier"),
    ], ids=["syntax-error", "raises", "bad-topic-name"])
    def test_a_python_module_that_fails_to_import_is_one_line(self, tmp_path, source, fragment):
        (tmp_path / "faulty.py").write_text(source)

        result = isoqube("topics", "--import", "faulty.py", cwd=tmp_path)

        assert_one_line_error(result, "faulty.py", fragment)

    def test_a_missing_cpp_module_is_one_line_naming_it(self, tmp_path):
        result = isoqube("topics", "--module", "missing/libnothing.so", cwd=tmp_path)

        assert_one_line_error(result, "missing/libnothing.so")


class TestRuns:
    def test_a_run_started_with_wait_and_its_consumers_completes(self, greeter):
        # Given the greeting configuration
        create_greeting(greeter)

        # When a run is started with the greeter's consumers in-process
        result = isoqube("runs", "start", "greeting", "--wait", "--import", "greeter.py",
                         "--payload", '{"who": "isoqube"}', "--json", cwd=greeter)

        # Then it completes and the outputs flowed from step to step
        assert result.returncode == 0, result
        run = json.loads(result.stdout)
        assert run["status"] == "completed"
        assert run["steps"][1]["output"] == {"shout": "HELLO ISOQUBE"}
        assert "GreetConsumer greets isoqube" in result.stderr

    def test_a_failed_run_exits_1_and_resume_completes_it(self, greeter):
        # Given a run whose second step fails on both attempts
        create_greeting(greeter)
        (greeter / "fail-shout").touch()
        failed = isoqube("runs", "start", "greeting", "--wait", "--import", "greeter.py",
                         cwd=greeter)
        assert failed.returncode == 1, failed
        assert "shout failed: fail-shout exists" in failed.stderr
        run_id = started_run_id(failed.stderr)

        # When the cause is removed and the run resumed
        (greeter / "fail-shout").unlink()
        resumed = isoqube("runs", "resume", run_id, "--wait", "--json", "--import", "greeter.py",
                          cwd=greeter)

        # Then the same run completes; the first step was not repeated
        assert resumed.returncode == 0, resumed
        run = json.loads(resumed.stdout)
        assert run["id"] == run_id
        assert run["status"] == "completed"
        assert run["steps"][0]["attempts"] == 1
        assert "GreetConsumer greets" not in resumed.stderr

    def test_rerun_starts_a_new_run_of_the_same_configuration(self, greeter):
        create_greeting(greeter)
        first = json.loads(isoqube("runs", "start", "greeting", "--wait", "--json", "--import",
                                   "greeter.py", cwd=greeter).stdout)

        again = isoqube("runs", "rerun", first["id"][:8], "--wait", "--json", "-d", "second",
                        "--import", "greeter.py", cwd=greeter)

        assert again.returncode == 0, again
        second = json.loads(again.stdout)
        assert second["id"] != first["id"]
        assert second["description"] == "second"
        assert second["configurationName"] == "greeting"

    def test_waiting_without_consumers_on_the_memory_transport_is_refused(self, greeter):
        create_greeting(greeter)

        result = isoqube("runs", "start", "greeting", "--wait", cwd=greeter)

        assert_one_line_error(result, "nothing in this process can execute",
                              "no consumer of 'Greet', 'Shout'")
        assert isoqube("runs", "list", "--json", cwd=greeter).stdout.strip() == "[]"

    # On memory:// such a start used to warn, exit 0 and leave the run
    # running for ever: nothing else can execute it once this process ends.
    @pytest.mark.parametrize("consumers", [[], ["--import", "greeter.py"]],
                             ids=["without-consumers", "with-consumers"])
    def test_starting_on_memory_without_waiting_is_refused_and_stores_nothing(
            self, greeter, consumers):
        create_greeting(greeter)

        result = isoqube("runs", "start", "greeting", *consumers, cwd=greeter)

        assert_one_line_error(result, "memory://", "--wait")
        assert isoqube("runs", "list", "--json", cwd=greeter).stdout.strip() == "[]"

    def test_resuming_without_consumers_on_memory_is_refused_naming_them(self, greeter):
        # Given a failed run
        create_greeting(greeter)
        (greeter / "fail-shout").touch()
        failed = isoqube("runs", "start", "greeting", "--wait", "--import", "greeter.py",
                         cwd=greeter)
        run_id = started_run_id(failed.stderr)

        # When it is resumed by a process without its consumers
        result = isoqube("runs", "resume", run_id, "--wait", cwd=greeter)

        # Then that is an error naming the one it misses, and the run is as it was
        assert_one_line_error(result, "no consumer of 'Shout'")
        shown = json.loads(isoqube("runs", "show", run_id, "--json", cwd=greeter).stdout)
        assert shown["status"] == "failed"

    def test_cancel_cancels_an_unfinished_run_once(self, greeter):
        # Given a run held in its second step by another process
        create_greeting(greeter)
        (greeter / "hold-shout").touch()
        with Child("runs", "start", "greeting", "--wait", "--import", "greeter.py",
                   cwd=greeter) as runner:
            run_id = started_run_id(runner.stderr.until(STARTED))
            assert wait_until(lambda: show_run(greeter, run_id)["steps"][1]["status"]
                              == "running")

            # When it is cancelled twice
            first = isoqube("runs", "cancel", run_id, cwd=greeter)
            second = isoqube("runs", "cancel", run_id, cwd=greeter)

            # Then the first cancels it, the second finds it cancelled already
            assert first.returncode == 0, first
            assert second.returncode == 1
            assert "already cancelled" in second.stderr
            assert runner.wait() == 1
        shown = json.loads(isoqube("runs", "show", run_id, "--json", cwd=greeter).stdout)
        assert shown["status"] == "cancelled"
        assert shown["steps"][0]["status"] == "completed"
        assert shown["steps"][1]["status"] == "cancelled"

    def test_runs_list_filters_by_status(self, greeter):
        create_greeting(greeter)
        done = json.loads(isoqube("runs", "start", "greeting", "--wait", "--json", "--import",
                                  "greeter.py", cwd=greeter).stdout)["id"]
        (greeter / "fail-shout").touch()
        pending = started_run_id(isoqube("runs", "start", "greeting", "--wait", "--import",
                                         "greeter.py", cwd=greeter).stderr)

        everything = json.loads(isoqube("runs", "list", "--json", cwd=greeter).stdout)
        completed = isoqube("runs", "list", "--status", "completed", cwd=greeter)

        assert [r["id"] for r in everything] == [pending, done]  # newest first
        assert done in completed.stdout and pending not in completed.stdout

    def test_showing_an_unknown_run_is_one_line_naming_it(self, tmp_path):
        result = isoqube("runs", "show", "00000000-0000-4000-8000-000000000000", cwd=tmp_path)

        assert_one_line_error(result, "00000000-0000-4000-8000-000000000000")

    def test_a_payload_that_is_not_json_is_one_line(self, greeter):
        create_greeting(greeter)

        result = isoqube("runs", "start", "greeting", "--payload", "{who: 1}", cwd=greeter)

        assert_one_line_error(result, "--payload")

    def test_a_wait_that_times_out_cancels_the_run_it_was_executing(self, greeter):
        # Given a run held in its second step, executed by this process alone
        create_greeting(greeter)
        (greeter / "hold-shout").touch()

        # When the wait for it times out
        result = isoqube("runs", "start", "greeting", "--wait", "--timeout", "0.5",
                         "--import", "greeter.py", cwd=greeter)

        # Then the command fails, and the run is cancelled rather than left running
        assert result.returncode == 1
        assert "still running after 0.5 s" in result.stderr
        run_id = started_run_id(result.stderr)
        shown = json.loads(isoqube("runs", "show", run_id, "--json", cwd=greeter).stdout)
        assert shown["status"] == "cancelled"

    def test_ctrl_c_while_waiting_cancels_the_run_and_exits_130(self, greeter):
        create_greeting(greeter)
        (greeter / "hold-shout").touch()
        with Child("runs", "start", "greeting", "--wait", "--import", "greeter.py",
                   cwd=greeter) as runner:
            run_id = started_run_id(runner.stderr.until(STARTED))
            runner.stderr.until("GreetConsumer greets")

            runner.process.send_signal(signal.SIGINT)

            assert runner.wait() == 130
            assert "interrupted" in runner.stderr.rest()
        shown = json.loads(isoqube("runs", "show", run_id, "--json", cwd=greeter).stdout)
        assert shown["status"] == "cancelled"
        assert shown["steps"][1]["status"] == "cancelled"

    def test_watch_follows_a_run_of_another_process_live(self, greeter):
        # Given a run held in its second step by another process
        create_greeting(greeter)
        (greeter / "hold-shout").touch()
        with Child("runs", "start", "greeting", "--wait", "--import", "greeter.py",
                   cwd=greeter) as runner:
            run_id = started_run_id(runner.stderr.until(STARTED))

            # When it is watched
            with Child("runs", "watch", run_id, cwd=greeter) as watcher:
                # Then the watcher shows the step running, then the run's end
                watcher.stdout.until("Shout queued -> running")
                (greeter / "hold-shout").unlink()
                watcher.stdout.until("Shout running -> completed")
                watcher.stdout.until("run running -> completed")
                assert watcher.wait() == 0
            assert runner.wait() == 0


    def test_watch_on_a_terminal_redraws_a_progress_display(self, greeter):
        # Given a run held in its second step by another process
        create_greeting(greeter)
        (greeter / "hold-shout").touch()
        with Child("runs", "start", "greeting", "--wait", "--import", "greeter.py",
                   cwd=greeter) as runner:
            run_id = started_run_id(runner.stderr.until(STARTED))

            # When it is watched on a terminal
            with Terminal("runs", "watch", run_id, cwd=greeter) as watcher:
                # Then the display shows the held step running, then redraws
                # itself until the run completed
                watcher.until("Shout")
                (greeter / "hold-shout").unlink()
                screen = watcher.rest()
                assert watcher.wait() == 0
            assert runner.wait() == 0
        assert "\x1b[J" in screen and "\x1b[" in screen.split("\x1b[J", 2)[1]
        assert "greeting  completed" in screen and "2/2 steps" in screen
        assert "✔ Shout" in screen and "✔ Greet" in screen
        assert screen.rstrip().endswith("(2/2 steps completed)")


class Terminal:
    """An ``isoqube`` command whose output is a terminal (a pseudo-terminal
    of 30 lines of 100 columns), as a person at a shell would see it."""

    def __init__(self, *args: str, cwd: Path):
        primary, secondary = pty.openpty()
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        env = {**_environment(), "TERM": "xterm"}
        self.process = subprocess.Popen([sys.executable, "-m", "isoqube", *args], cwd=cwd,
                                        env=env, stdout=secondary, stderr=subprocess.DEVNULL)
        os.close(secondary)
        self._primary = primary
        self.seen = ""

    def _read(self, deadline: float) -> bool:
        """Reads what is there; False at the end of the output."""
        ready, _, _ = select.select([self._primary], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return True
        try:
            chunk = os.read(self._primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.seen += chunk.decode("utf-8", "replace")
        return bool(chunk)

    def until(self, wanted: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while wanted not in self.seen:
            if not self._read(deadline) or time.monotonic() > deadline:
                raise AssertionError(f"no {wanted!r} on the terminal: {self.seen!r}")

    def rest(self) -> str:
        """Everything shown, once the child ends."""
        deadline = time.monotonic() + TIMEOUT
        while self._read(deadline) and time.monotonic() < deadline:
            pass
        return self.seen

    def wait(self) -> int:
        return self.process.wait(timeout=TIMEOUT)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        os.close(self._primary)


class TestWorker:
    def test_worker_runs_until_sigint_then_stops_cleanly(self, greeter):
        with Child("worker", "--import", "greeter.py", "--service", "greeter",
                   cwd=greeter) as worker:
            worker.stderr.until("worker ready: 2 consumers")

            worker.process.send_signal(signal.SIGINT)

            assert worker.wait() == 0
            rest = worker.stderr.rest()
            assert "worker stopped" in rest
            assert "Traceback" not in rest

    def test_worker_stops_on_sigterm(self, greeter):
        with Child("worker", "--import", "greeter.py", cwd=greeter) as worker:
            worker.stderr.until("worker ready:")

            worker.process.terminate()

            assert worker.wait() == 0

    def test_worker_without_consumers_is_one_line(self, tmp_path):
        assert_one_line_error(isoqube("worker", cwd=tmp_path), "no consumers")

    def test_worker_of_an_unknown_service_names_the_loaded_ones(self, greeter):
        result = isoqube("worker", "--import", "greeter.py", "--service", "mailer", cwd=greeter)

        assert_one_line_error(result, "mailer", "greeter")


class TestConsole:
    """The renderer behind the tables, tested in-process."""

    def test_table_aligns_columns_and_right_aligns_the_chosen_ones(self):
        from isoqube import console

        text = console.table(["step", "attempts"], [["Greet", 1], ["LongerName", 12]], right=(1,))

        assert text.splitlines() == [
            "step        attempts",
            "Greet              1",
            "LongerName        12",
        ]

    def test_table_measures_coloured_cells_by_their_visible_width(self):
        from isoqube import console

        red = console.status_text("failed", colour=True)
        text = console.table(["status", "n"], [[red, 1], ["completed", 2]])

        first, second = text.splitlines()[1:]
        assert first.startswith(red)
        assert first.replace(red, "failed") == "failed     1"
        assert second == "completed  2"

    def test_colour_is_used_only_on_a_terminal_without_no_color(self, monkeypatch):
        from isoqube import console

        class Terminal:
            def isatty(self):
                return True

        monkeypatch.delenv("NO_COLOR", raising=False)
        assert console.use_colour(Terminal())
        assert not console.use_colour(io.StringIO())
        monkeypatch.setenv("NO_COLOR", "1")
        assert not console.use_colour(Terminal())

    def test_durations_and_times_are_short_and_readable(self):
        from isoqube import console

        assert console.duration(timedelta(milliseconds=412)) == "0.412 s"
        assert console.duration(timedelta(seconds=123.5)) == "2 min 03.5 s"
        assert console.duration(timedelta(hours=2, minutes=5)) == "2 h 05 min"
        assert console.duration(None) == "-"
        moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
        assert console.clock_time(moment) == moment.astimezone().strftime("%H:%M:%S") + ".678"
        assert console.clock_time(None) == "-"
