"""The MongoDB store end to end, on the real MongoDB-wire test server, with
pymongo (a client nobody here wrote) as the judge of what is stored.

Each test gets a database of its own (the `mongo_store` fixture), dropped
after it. The server is restarted for real in the outage test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import isoqube
import pytest
from conftest import ROOT, declare, wait_until
from pymongo import MongoClient
from test_mongodb_server import with_password

RUN_TIMEOUT = 120.0
SEED_STEP_FIELDS = ("Name", "Description", "Type", "InvokedOn", "CompletedOn", "SucceededOn",
                    "FailedOn", "RetriedOn", "CancelledOn")


def with_database(uri: str, database: str) -> str:
    scheme, rest = uri.split("://", 1)
    query = rest.find("?")
    authority, tail = (rest, "") if query < 0 else (rest[:query], rest[query:])
    return f"{scheme}://{authority.split('/', 1)[0]}/{database}{tail}"


@pytest.fixture
def mongo_database(mongodb_uri: str) -> Iterator[str]:
    name = f"isoqube_test_{uuid.uuid4().hex[:12]}"
    yield name
    with MongoClient(mongodb_uri) as client:
        client.drop_database(name)


@pytest.fixture
def mongo_store(mongodb_uri: str, mongo_database: str) -> str:
    """A store URI naming the test's own database."""
    return with_database(mongodb_uri, mongo_database)


@pytest.fixture
def db(mongodb_uri: str, mongo_database: str) -> Iterator:
    with MongoClient(mongodb_uri, tz_aware=True) as client:
        yield client[mongo_database]


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def isoqube_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "isoqube", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


def assert_seed_shape(stored: dict, run: dict) -> None:
    """The Run document as the seed's tools read it, against the run the
    CLI printed: field names, BSON dates to the millisecond."""
    assert stored["_id"] == run["id"]
    assert isinstance(stored["CreatedOn"], datetime)
    assert isinstance(stored["ModifiedOn"], datetime)
    assert stored["CreatedOn"] <= stored["ModifiedOn"]
    assert stored["Status"] == run["status"]
    assert len(stored["Topics"]) == len(run["steps"])
    for doc, step in zip(stored["Topics"], run["steps"]):
        for field in SEED_STEP_FIELDS:
            assert field in doc, (field, doc)
        assert doc["Name"] == step["name"]
        assert doc["Type"] == step["topic"]
        assert doc["Status"] == step["status"]
        for field, key in (("InvokedOn", "invokedOn"), ("CompletedOn", "completedOn"),
                           ("SucceededOn", "succeededOn")):
            expected = parse_time(step[key])
            assert isinstance(doc[field], datetime), (field, doc[field])
            # The date is the exact time truncated to the millisecond.
            assert timedelta(0) <= expected - doc[field] < timedelta(milliseconds=1)
        assert doc["InvokedOn"] <= doc["CompletedOn"]
        assert doc["FailedOn"] is None and doc["CancelledOn"] is None


def test_demo_with_the_mongodb_store_completes_and_pymongo_reads_the_seeds_shape(
        mongo_store: str, db, tmp_path: Path) -> None:
    result = isoqube_cli("--store", mongo_store, "demo", "--work-ms", "20", "--json",
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = json.loads(result.stdout)
    assert run["status"] == "completed"
    assert len(run["steps"]) == 15

    stored = db.Run.find_one({"_id": run["id"]})
    assert_seed_shape(stored, run)
    # Registered topics carry their descriptions into the steps.
    assert all(doc["Description"] for doc in stored["Topics"])
    config = db.Configurations.find_one({"Name": run["configurationName"]})
    assert config is not None
    assert [t["Name"] for t in config["Topics"]] == [s["name"] for s in run["steps"]]
    topics = {t["Name"] for t in db.Topics.find()}
    assert {s["topic"] for s in run["steps"]} <= topics
    # The events are the run's history: each step queued, run and completed once.
    completed = Counter(e["Step"] for e in stored["Events"]
                        if e["Step"] >= 0 and e["To"] == "completed")
    assert completed == Counter(range(15))


def test_demo_across_worker_processes_on_rabbitmq_with_the_mongodb_store(
        amqp_uri: str, mongo_store: str, db, tmp_path: Path) -> None:
    result = isoqube_cli("--transport", amqp_uri, "--store", mongo_store, "demo", "--work-ms",
                         "20", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("worker ready:") == 4
    run = json.loads(result.stdout)
    assert run["status"] == "completed"
    stored = db.Run.find_one({"_id": run["id"]})
    assert_seed_shape(stored, run)
    claims = {e["Detail"] for e in stored["Events"] if e["Step"] >= 0 and e["To"] == "running"}
    assert len(claims) == 4, claims


def test_engines_in_two_processes_share_runs_through_the_database(
        mongo_store: str, registry: isoqube.Registry, tmp_path: Path) -> None:
    declare(registry, "MongoA", "MongoB")
    with isoqube.Engine("memory://", mongo_store, registry=registry) as engine:
        config = engine.save_configuration(isoqube.Configuration("mongo-ab", ["MongoA", "MongoB"]))
        run = engine.wait(engine.start_run(config.name).id, timeout=RUN_TIMEOUT)
    assert run.status == "completed"
    listed = isoqube_cli("--store", mongo_store, "runs", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [r["id"] for r in json.loads(listed.stdout)] == [run.id]


def test_the_database_restarted_mid_run_is_reported_retried_and_the_run_completes(
        mongodb: tuple[str, Path | None], mongo_store: str, registry: isoqube.Registry,
        capfd: pytest.CaptureFixture[str]) -> None:
    _, folder = mongodb
    if folder is None:
        pytest.skip("the server was named by ISOQUBE_TEST_MONGODB_URI; this test restarts its own")
    topic = registry.topic("MongoSlowish")(type("MongoSlowish", (), {}))

    @registry.consumer(topic, name="MongoSlowishConsumer")
    def slowish(ctx):
        time.sleep(0.2)
        return {"step": ctx.step}

    steps = [isoqube.Step("MongoSlowish", name=f"s{i}") for i in range(10)]
    with isoqube.Engine("memory://", mongo_store, registry=registry) as engine:
        config = engine.save_configuration(isoqube.Configuration("slowish-10", steps))
        run = engine.start_run(config.name)
        assert wait_until(lambda: engine.run(run.id).steps[2].status != "pending",
                          timeout=RUN_TIMEOUT)
        subprocess.run([ROOT / "scripts" / "mongodb", "restart", folder], check=True,
                       capture_output=True, timeout=120)
        final = engine.wait(run.id, timeout=RUN_TIMEOUT)
        events = engine.event_log(run.id)

    assert final.status == "completed", final.error
    done = Counter(e.step_name for e in events if e.step >= 0 and e.to_status == "completed")
    assert done == Counter({f"s{i}": 1 for i in range(10)})
    # The outage was told, with the server's URI and no password.
    logged = capfd.readouterr().err
    assert "does not answer" in logged and "answers again" in logged, logged[-3000:]
    password = mongo_store.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password not in logged


def test_threads_racing_on_one_database_complete_every_run_once(
        mongo_store: str, registry: isoqube.Registry) -> None:
    declare(registry, "MongoFanA", "MongoFanB", "MongoFanC")
    with isoqube.Engine("memory://", mongo_store, registry=registry, concurrency=8) as engine:
        config = engine.save_configuration(
            isoqube.Configuration("fan", [isoqube.Step("MongoFanA"),
                                          isoqube.Step("MongoFanB", after=["MongoFanA"]),
                                          isoqube.Step("MongoFanC", after=["MongoFanA"])]))
        runs = [engine.start_run(config.name) for _ in range(10)]
        finished = [engine.wait(r.id, timeout=RUN_TIMEOUT) for r in runs]
        histories = [engine.event_log(r.id) for r in runs]
    assert all(r.status == "completed" for r in finished)
    for events in histories:
        done = Counter(e.step_name for e in events if e.step >= 0 and e.to_status == "completed")
        assert done == Counter({"MongoFanA": 1, "MongoFanB": 1, "MongoFanC": 1})
        assert sum(e.step < 0 and e.to_status == "completed" for e in events) == 1


@pytest.mark.parametrize("case", ["unreachable", "wrong password", "malformed"])
def test_bad_store_uris_fail_with_one_clear_error(case: str, mongodb_uri: str,
                                                  tmp_path: Path) -> None:
    uri = {
        "unreachable": "mongodb://isoqube:s3cret@127.0.0.1:1/Isoqube?serverSelectionTimeoutMS=300",
        "wrong password": with_database(with_password(mongodb_uri, "s3cret"), "Isoqube"),
        "malformed": "mongodb://isoqube:s3cret@127.0.0.1:27017/Isoqube?replicaSet=",
    }[case]
    result = isoqube_cli("--store", uri, "runs", "list", cwd=tmp_path, timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr
    assert ":***@" in result.stderr
    expected = {"unreachable": "cannot open MongoDB store",
                "wrong password": "uthentication failed",
                "malformed": "not a valid MongoDB URI"}[case]
    assert expected in result.stderr, result.stderr


@pytest.mark.parametrize("uri", [
    "mongodb://isoqube:s3cret@127.0.0.1:27017/Isoqube?replicaSet=",
    "mongodb://isoqube:s3cret@127.0.0.1:port/Isoqube",
    "mongodb://isoqube:s3cret@/Isoqube",
    "mongodb://isoqube:s3cret@127.0.0.1/Isoqube?tls=maybe",
    "mongodb+srv://isoqube:s3cret@127.0.0.1:27017/Isoqube",
    "mongodb://isoqube:s3cret@127.0.0.1,/Isoqube",
    "mongodb://isoqube:s3cret@127.0.0.1:1/Isoqube?serverSelectionTimeoutMS=300",
    "mongodb://isoqube:s3cret@127.0.0.1:1/?compressors=lzma&serverSelectionTimeoutMS=300",
])
def test_a_bad_store_uri_prints_only_the_one_line_error(uri: str, tmp_path: Path) -> None:
    # When a command is given a URI the driver cannot parse, or whose
    # server does not answer
    result = isoqube_cli("--store", uri, "runs", "list", cwd=tmp_path, timeout=60)
    # Then it fails with the CLI's one line naming the URI (password
    # masked), and no line of the driver's own log before it
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("isoqube: error: ") and ":***@" in lines[0], lines[0]
    assert "s3cret" not in result.stderr


@pytest.fixture
def mongo_controlcenter(registry: isoqube.Registry, mongo_store: str) -> Iterator:
    """The test controlcenter (controlcenter_app.py) over the MongoDB store."""
    from controlcenter_app import serve

    yield from serve(registry, mongo_store)


def test_the_controlcenter_on_mongodb_lists_runs_and_streams_another_process_transitions(
        mongo_controlcenter, mongo_store: str) -> None:
    from test_controlcenter_api import listen_in_background

    cc = mongo_controlcenter
    first = cc.start_run("fetch-build")
    cc.wait_for(first["id"], "completed")
    listed = cc.client.get("/api/configuration/run/all").json()
    assert [r["id"] for r in listed] == [first["id"]]
    assert [t["name"] for t in listed[0]["topics"]] == ["Fetch", "Build"]

    # Another engine on the same database stands for another process: its
    # transitions reach the controlcenter only through the store.
    other_registry = isoqube.Registry()
    other_registry.topic("Elsewhere")(type("Elsewhere", (), {}))
    other_registry.consumer("Elsewhere", service="elsewhere", name="ElsewhereConsumer")(
        lambda ctx: {"where": "there"})
    with isoqube.Engine("memory://", mongo_store, registry=other_registry) as other:
        other.start()
        # Its run is the only other one: its end may come to the stream
        # before start_run returns here.
        events = listen_in_background(
            cc.client, lambda e: e["runId"] != first["id"] and e["step"] < 0
            and e["to"] == "completed")
        run = other.start_run(isoqube.Configuration("elsewhere", ["Elsewhere"]))
        received = [e for e in events() if e["runId"] == run.id]
    step = [(e["stepName"], e["from"], e["to"]) for e in received if e["step"] == 0]
    assert step == [("Elsewhere", "pending", "queued"), ("Elsewhere", "queued", "running"),
                    ("Elsewhere", "running", "completed")]
    assert received[0]["step"] == -1 and received[0]["from"] == ""  # its creation
    assert received[-1]["step"] == -1 and received[-1]["to"] == "completed"
    seqs = [e["seq"] for e in received]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_the_controlcenter_feed_gets_an_event_committed_late_below_a_seq_it_read(
        registry: isoqube.Registry, mongo_store: str, db) -> None:
    from bson.int64 import Int64
    from isoqube.controlcenter.events import EventHub

    # Given the controlcenter's event hub following a MongoDB store
    declare(registry, "LateA", "LateB")
    with isoqube.Engine("memory://", mongo_store, registry=registry) as engine:
        hub = EventHub(engine, poll=0.05)
        got: list = []
        hub.add_listener(got.append)
        hub.start()
        try:
            # and two runs whose events it has delivered
            first = engine.start_run(isoqube.Configuration("late-a", ["LateA"]))
            engine.wait(first, timeout=RUN_TIMEOUT)
            second = engine.start_run(isoqube.Configuration("late-b", ["LateB"]))
            engine.wait(second, timeout=RUN_TIMEOUT)
            newest = engine.last_event_seq()
            assert wait_until(lambda: any(e.seq == newest for e in got))
            # When another writer, whose clock is behind, commits an event of
            # the first run with a seq below the newest one delivered
            late = engine.event_log(second.id)[0].seq - 1
            assert late > max(e.seq for e in got if e.run_id == first.id)
            now = datetime.now().astimezone()
            db["Run"].update_one({"_id": first.id}, {
                "$push": {"Events": {"Seq": Int64(late), "Step": -1, "From": "completed",
                                     "To": "completed", "Time": now, "Detail": "late",
                                     "Micros": {"Time": Int64(int(now.timestamp() * 1e6))}}},
                "$max": {"EventSeq": Int64(late)}})
            # Then the hub hands it out too, once
            assert wait_until(lambda: any(e.seq == late for e in got)), \
                [(e.seq, e.run_id) for e in got]
            # and only once, however often the hub reads again
            third = engine.start_run(isoqube.Configuration("late-c", ["LateB"]))
            engine.wait(third, timeout=RUN_TIMEOUT)
            last = engine.last_event_seq()
            assert wait_until(lambda: any(e.seq == last for e in got))
            assert [e.seq for e in got].count(late) == 1
        finally:
            hub.close()
