"""Service logs in MongoDB (--log-collection, isoqube.send_logs_to), judged
by pymongo against the test's MongoDB-wire server, each test in a database
of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import isoqube
import pytest
from pymongo import MongoClient
from test_mongodb import with_database

DEMO_SERVICES = {"default", "linux-pool", "windows-pool", "deployment"}
DEMO_STEPS = 15


@pytest.fixture
def logs_db(mongodb_uri: str) -> Iterator:
    name = f"isoqube_test_logs_{os.urandom(6).hex()}"
    with MongoClient(mongodb_uri, tz_aware=True) as client:
        yield client[name]
        client.drop_database(name)


@pytest.fixture
def logs_uri(mongodb_uri: str, logs_db) -> str:
    return with_database(mongodb_uri, logs_db.name)


def isoqube_cli(*args: str, cwd: Path, environment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ISOQUBE_ENVIRONMENT": environment}
    env.pop("ISOQUBE_LOG_COLLECTION", None)
    return subprocess.run([sys.executable, "-m", "isoqube", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env=env)


def consumed_lines(logs_db) -> list:
    return list(logs_db.Logs.find({"Message": {"$regex": " consumed "}}))


def test_log_lines_arrive_in_the_collection_with_the_seeds_fields(logs_uri: str,
                                                                  logs_db) -> None:
    before = datetime.now(timezone.utc) - timedelta(milliseconds=1)
    with isoqube.send_logs_to(logs_uri, application="py-test", environment="Testing") as logs:
        isoqube.logger("py-log-test").warning("hello %s", "there")
        assert logs.flush(timeout=30)
        assert logs.stats()["written"] >= 1
    assert logs.closed
    logs.close()  # a second time does nothing

    (line,) = logs_db.Logs.find({"Logger": "isoqube.py-log-test"})
    assert line["Level"] == "Warning"
    assert line["Message"] == "hello there"
    assert line["Application"] == "py-test"
    assert line["Environment"] == "Testing"
    assert line["ProcessId"] == os.getpid()
    assert line["Host"]
    assert before <= line["Timestamp"] <= datetime.now(timezone.utc)


def test_a_closed_log_collection_says_so(logs_uri: str) -> None:
    logs = isoqube.send_logs_to(logs_uri)
    logs.close()
    with pytest.raises(isoqube.Error, match="closed"):
        logs.flush()


def test_demo_puts_its_consumers_log_lines_in_the_collection_per_service(
        logs_uri: str, logs_db, tmp_path: Path) -> None:
    result = isoqube_cli("--log-collection", logs_uri, "demo", "--work-ms", "20",
                         cwd=tmp_path, environment="Testing")
    assert result.returncode == 0, result.stderr[-3000:]

    consumed = consumed_lines(logs_db)
    # One line per step, each under its service's name.
    assert len(consumed) == DEMO_STEPS
    assert {line["Application"] for line in consumed} == DEMO_SERVICES
    for line in consumed:
        assert line["Logger"] == f"isoqube.{line['Application']}"
        assert line["Level"] == "Information"
        assert line["Environment"] == "Testing"
        assert isinstance(line["Timestamp"], datetime)
    # The core's lines name the command.
    completed = logs_db.Logs.find_one({"Logger": "isoqube.orchestrator",
                                       "Message": {"$regex": "completed$"}})
    assert completed is not None and completed["Application"] == "isoqube demo"


def test_demo_across_worker_processes_sends_each_workers_lines(
        amqp_uri: str, logs_uri: str, logs_db, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'isoqube.db'}"
    result = isoqube_cli("--transport", amqp_uri, "--store", store, "--log-collection",
                         logs_uri, "demo", "--work-ms", "20", cwd=tmp_path,
                         environment="Staging")
    assert result.returncode == 0, result.stderr[-3000:]

    consumed = consumed_lines(logs_db)
    assert len(consumed) == DEMO_STEPS
    by_service = {line["Application"]: line["ProcessId"] for line in consumed}
    assert set(by_service) == DEMO_SERVICES
    # Each service ran in a worker process of its own, which wrote its lines.
    assert len(set(by_service.values())) == len(DEMO_SERVICES)
    assert {line["Environment"] for line in consumed} == {"Staging"}
    # Every line of a worker, its core's too, names the service it runs.
    for service, pid in by_service.items():
        assert {line["Application"] for line in logs_db.Logs.find({"ProcessId": pid})} == {
            service}


def test_unreachable_log_collection_fails_the_command_naming_it(tmp_path: Path) -> None:
    uri = "mongodb://u:secret@127.0.0.1:1/Logs?serverSelectionTimeoutMS=300"
    result = isoqube_cli("--log-collection", uri, "demo", "--work-ms", "0",
                         cwd=tmp_path, environment="Testing")
    assert result.returncode == 1
    assert "log collection" in result.stderr
    assert "u:***@127.0.0.1:1" in result.stderr
    assert "secret" not in result.stderr
