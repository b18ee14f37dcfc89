"""``isoqube controlcenter`` as users start it: a subprocess serving until
it is interrupted, alone, with the demo's services, or beside other
processes that run work on the same store."""

from __future__ import annotations

import json
import re
import signal
import socket
import threading

import httpx
import pytest
from conftest import WAIT, wait_until
from test_cli import Child, create_greeting, greeter, isoqube

__all__ = ["greeter"]  # a fixture, used by name

ADDRESS = re.compile(r"isoqube controlcenter on (http://127\.0\.0\.1:\d+/)")


def address(child: Child) -> str:
    return ADDRESS.search(child.stdout.until("isoqube controlcenter on")).group(1)


def test_controlcenter_prints_its_loopback_address_and_stops_on_sigint(tmp_path):
    with Child("controlcenter", "--port", "0", cwd=tmp_path) as child:
        url = address(child)
        assert httpx.get(f"{url}api/health/live").json() == {"status": "live"}
        assert "<!doctype html>" in httpx.get(url).text.lower()
        child.stderr.until("no consumers here and the transport is memory://")

        child.process.send_signal(signal.SIGINT)

        assert child.wait() == 0
        child.stderr.until("controlcenter stopped")


def test_controlcenter_with_the_demo_runs_the_build_server_from_the_api(tmp_path):
    with Child("controlcenter", "--demo", "--port", "0", cwd=tmp_path) as child:
        url = address(child)
        with httpx.Client(base_url=url, timeout=WAIT) as client:
            topics = {t["name"]: t for t in client.get("/api/registeredtopics").json()}
            assert topics["LinuxUbuntu2204Build"]["consumers"][0]["service"] == "linux-pool"

            run = client.post("/api/configuration/run", json={
                "configuration": "build-server", "payload": {"work_ms": 10}}).json()

            def finished() -> bool:
                run.update(client.get(f"/api/configuration/run/{run['id']}").json())
                return run["status"] != "running"

            assert wait_until(finished)
        assert run["status"] == "completed", run
        assert len(run["steps"]) == 15
        child.process.send_signal(signal.SIGTERM)
        assert child.wait() == 0


def test_controlcenter_beside_another_process_follows_its_run_live(greeter):
    # Given a controlcenter with no consumers of its own, listening
    create_greeting(greeter)
    with Child("controlcenter", "--port", "0", cwd=greeter) as child:
        url = address(child)
        events: list[dict] = []
        connected = threading.Event()

        def listen() -> None:
            with httpx.stream("GET", f"{url}api/events", timeout=WAIT) as response:
                for line in response.iter_lines():
                    connected.set()
                    if line.startswith("data: "):
                        events.append(json.loads(line[6:]))
                        if events[-1]["step"] < 0 and events[-1]["to"] == "completed":
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert connected.wait(WAIT)

        # When another process runs a configuration on the same store
        result = isoqube("runs", "start", "greeting", "--import", "greeter.py", "--wait",
                         "--json", cwd=greeter)
        assert result.returncode == 0, result
        run_id = json.loads(result.stdout)["id"]

        # Then the controlcenter streamed its transitions and lists the run
        listener.join(WAIT)
        assert [(e["stepName"], e["to"]) for e in events if e["runId"] == run_id][-3:] == [
            ("Shout", "running"), ("Shout", "completed"), ("", "completed")]
        runs = httpx.get(f"{url}api/configuration/run/all").json()
        assert [(r["id"], r["status"]) for r in runs] == [(run_id, "completed")]


def test_controlcenter_says_when_its_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])

        result = isoqube("controlcenter", "--port", port, cwd=tmp_path)

    assert result.returncode == 1, result
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"isoqube: error: cannot listen on 127.0.0.1:{port}")
    assert "--port" in error


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_controlcenter_refuses_a_bad_port(tmp_path, port):
    result = isoqube("controlcenter", "--port", port, cwd=tmp_path)

    assert result.returncode == 2 and "--port" in result.stderr
