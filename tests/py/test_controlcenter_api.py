"""The controlcenter's HTTP API, spoken to over a real socket with httpx:
the seed's endpoints with their shapes, run control, live events, metrics,
and every kind of bad request (a 4xx with a JSON body naming the problem,
and nothing written)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import httpx
import isoqube
import pytest
from conftest import WAIT, wait_until

SEED_RUN_TIMES = ("invokedOn", "completedOn", "failedOn", "retriedOn", "cancelledOn",
                  "succeededOn")


def assert_refused(response: httpx.Response, status: int, field: str | None = None,
                   says: str = "") -> None:
    """A refusal: the status, a JSON body with the message, and the field."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert says.lower() in body["error"].lower()
    assert body["errors"] and all("message" in e for e in body["errors"])
    assert [e["field"] for e in body["errors"]][0] == field


# Topics and health.


def test_registered_topics_lists_each_topic_with_the_seeds_fields_and_its_consumers(
        controlcenter):
    topics = controlcenter.client.get("/api/registeredtopics").json()

    by_name = {t["name"]: t for t in topics}
    assert set(by_name) == {"Build", "Fetch", "Flaky", "Hold"}
    fetch = by_name["Fetch"]
    assert fetch["description"] == "Fetch the sources"
    assert fetch["type"] == "Isoqube.Topics.Fetch" and fetch["version"]
    assert fetch["entityName"] == "fetch"
    assert fetch["consumers"] == [{"name": "FetchConsumer", "service": "sources"}]


def test_health_endpoints_say_live_and_ready(controlcenter):
    assert controlcenter.client.get("/api/health/live").json() == {"status": "live"}
    assert controlcenter.client.get("/api/health/ready").json() == {"status": "ready"}


def test_health_ready_answers_503_when_the_store_is_closed(controlcenter):
    controlcenter.engine.close()

    response = controlcenter.client.get("/api/health/ready")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable" and response.json()["error"]


def test_info_tells_the_uris_and_that_this_process_executes_runs(controlcenter):
    info = controlcenter.client.get("/api/info").json()

    assert info["version"] == isoqube.__version__
    assert info["transport"] == "memory://" and info["store"].startswith("sqlite:")
    assert info["executes"] is True and info["services"] == ["builds", "sources"]


# Configurations.


def test_a_saved_configuration_comes_back_with_steps_and_the_seeds_topics(controlcenter):
    body = {"name": "two-builds", "description": "fan out",
            "steps": [{"topic": "Fetch"},
                      {"topic": "Build", "name": "BuildA", "after": ["Fetch"],
                       "retry": {"attempts": 3, "intervalMs": 100, "backoff": 2}},
                      {"topic": "Build", "name": "BuildB", "after": ["Fetch"]}]}

    saved = controlcenter.client.post("/api/configuration", json=body).json()

    assert saved["id"] and saved["name"] == "two-builds" and saved["description"] == "fan out"
    assert [(s["name"], s["after"]) for s in saved["steps"]] == [
        ("Fetch", []), ("BuildA", ["Fetch"]), ("BuildB", ["Fetch"])]
    assert saved["steps"][1]["retry"] == {"attempts": 3, "intervalMs": 100, "backoff": 2.0}
    assert saved["topics"] == [
        {"name": "Fetch", "description": "Fetch the sources", "type": "Isoqube.Topics.Fetch",
         "version": "1.0"},
        {"name": "Build", "description": "Build them", "type": "Isoqube.Topics.Build",
         "version": "1.0"},
        {"name": "Build", "description": "Build them", "type": "Isoqube.Topics.Build",
         "version": "1.0"}]
    assert controlcenter.engine.configuration("two-builds").id == saved["id"]


def test_a_configuration_in_the_seeds_shape_is_saved_as_sequential_steps(controlcenter):
    body = {"name": "seed", "description": "from the Configurator",
            "topics": [{"name": "Fetch", "description": "", "type": "x", "version": "1"},
                       {"name": "Build"}]}

    saved = controlcenter.client.post("/api/configuration", json=body).json()

    assert [(s["topic"], s["after"]) for s in saved["steps"]] == [
        ("Fetch", []), ("Build", ["Fetch"])]


def test_posting_a_configuration_with_its_id_updates_it(controlcenter):
    saved = controlcenter.client.post(
        "/api/configuration", json={"name": "edit-me", "steps": ["Fetch"]}).json()

    changed = controlcenter.client.post("/api/configuration", json={
        "id": saved["id"], "name": "edited", "steps": ["Fetch", "Build"]}).json()

    assert changed["id"] == saved["id"] and changed["name"] == "edited"
    names = [c["name"] for c in controlcenter.client.get("/api/configuration/all").json()]
    assert "edited" in names and "edit-me" not in names


def test_configuration_all_lists_every_configuration_by_name(controlcenter):
    listed = controlcenter.client.get("/api/configuration/all").json()

    assert [c["name"] for c in listed] == ["fetch-build", "flaky", "held"]
    assert all(c["topics"] and c["steps"] and c["id"] for c in listed)


def test_one_configuration_is_found_by_name_or_id(controlcenter):
    by_name = controlcenter.client.get("/api/configuration/fetch-build").json()
    by_id = controlcenter.client.get(f"/api/configuration/{by_name['id']}").json()

    assert by_id == by_name and by_name["name"] == "fetch-build"
    assert_refused(controlcenter.client.get("/api/configuration/nope"), 404, says="nope")


BAD_CONFIGURATIONS = [
    pytest.param({"name": "", "steps": ["Fetch"]}, "name", "no name", id="no-name"),
    pytest.param({"name": "x", "steps": []}, "steps", "no steps", id="no-steps"),
    pytest.param({"name": "x", "steps": [{"topic": "Nope"}]}, "steps[0].topic",
                 "unknown topic 'Nope'", id="unknown-topic"),
    pytest.param({"name": "x", "topics": [{"name": "Fetch"}, {"name": "Zap"}]},
                 "topics[1].name", "unknown topic 'Zap'", id="unknown-seed-topic"),
    pytest.param({"name": "x", "steps": [{"topic": "Fetch"}, {"name": "Fetch", "topic": "Build"}]},
                 "steps[1].name", "duplicate step name", id="duplicate-step"),
    pytest.param({"name": "x", "steps": [{"topic": "Fetch", "after": ["Ghost"]}]},
                 "steps[0].after", "unknown step 'Ghost'", id="after-unknown-step"),
    pytest.param({"name": "x", "steps": [{"topic": "Fetch", "after": ["Build"]},
                                         {"topic": "Build", "after": ["Fetch"]}]},
                 "steps[0].after", "cycle", id="cycle"),
    pytest.param({"name": "x", "steps": [{"topic": "Fetch", "retry": {"attempts": 0}}]},
                 "steps[0].retry.attempts", "retry attempts 0", id="attempts-zero"),
    pytest.param({"name": "x", "steps": [{"topic": "Fetch", "retry": {"attempts": "3"}}]},
                 "steps[0].retry.attempts", "must be an integer", id="attempts-not-integer"),
    pytest.param({"name": "x", "steps": [{"topic": "Fetch", "retry": {"intervalMs": -1}}]},
                 "steps[0].retry.intervalMs", "negative retry interval", id="negative-interval"),
    pytest.param({"name": "x", "steps": [{"topic": "Fetch", "retry": {"backoff": 0.5}}]},
                 "steps[0].retry.backoff", "backoff", id="backoff-below-one"),
    pytest.param({"name": "x", "steps": [{"topic": "Fetch", "payload": [1]}]},
                 "steps[0].payload", "payload", id="payload-not-object"),
    pytest.param({"name": "x", "steps": [{"name": "NoTopic"}]}, "steps[0].topic",
                 "topic", id="step-without-topic"),
    pytest.param({"name": 7, "steps": ["Fetch"]}, "name", "must be a string",
                 id="name-not-string"),
]


@pytest.mark.parametrize(("body", "field", "says"), BAD_CONFIGURATIONS)
def test_an_invalid_configuration_is_refused_naming_its_field_and_not_saved(
        controlcenter, body, field, says):
    before = controlcenter.client.get("/api/configuration/all").json()

    response = controlcenter.client.post("/api/configuration", json=body)

    assert_refused(response, 400, field, says)
    assert controlcenter.client.get("/api/configuration/all").json() == before


BAD_BODIES = [
    pytest.param(b"", "application/json", 400, "empty", id="empty"),
    pytest.param(b"{not json", "application/json", 400, "not valid JSON", id="malformed"),
    pytest.param(b"\xff\xfe", "application/json", 400, "UTF-8", id="not-utf8"),
    pytest.param(b"[1, 2]", "application/json", 400, "not an array", id="array"),
    pytest.param(b'{"name": "x"}', "text/plain", 415, "Content-Type", id="not-json-type"),
    pytest.param(b'{"name": "x"}', None, 415, "Content-Type", id="no-content-type"),
    pytest.param(b'{"name": "x"}', "application/json; charset=latin-1", 415, "Content-Type",
                 id="not-utf8-charset"),
    pytest.param(b'{"name": "' + b"x" * (1 << 20) + b'"}', "application/json", 413,
                 "larger", id="too-large"),
]


@pytest.mark.parametrize("endpoint", ["/api/configuration", "/api/configuration/run",
                                      "/api/init"])
@pytest.mark.parametrize(("content", "content_type", "status", "says"), BAD_BODIES)
def test_a_body_that_is_not_a_json_object_is_refused(controlcenter, endpoint, content,
                                                     content_type, status, says):
    headers = {"Content-Type": content_type} if content_type else {}
    response = controlcenter.client.post(endpoint, content=content, headers=headers)

    assert_refused(response, status, "Content-Type" if status == 415 else None, says)
    assert len(controlcenter.client.get("/api/configuration/run/all").json()) == 0


# Runs.


def test_a_run_started_by_configuration_name_completes(controlcenter):
    response = controlcenter.client.post("/api/configuration/run", json={
        "configuration": "fetch-build", "description": "first", "ingestionId": "rev-1",
        "payload": {"colour": "blue"}})

    assert response.status_code == 201
    run = response.json()
    assert response.headers["Location"] == f"/api/configuration/run/{run['id']}"
    assert run["description"] == "first" and run["ingestionId"] == "rev-1"
    assert run["configurationName"] == "fetch-build" and run["payload"] == {"colour": "blue"}
    done = controlcenter.wait_for(run["id"], "completed")
    assert [s["status"] for s in done["steps"]] == ["completed", "completed"]
    assert done["steps"][0]["output"] == {"files": 3}


def test_a_run_has_the_seeds_shape_beside_its_steps(controlcenter):
    run = controlcenter.start_run("fetch-build")
    done = controlcenter.wait_for(run["id"], "completed")

    for key in ("id", "description", "createdOn", "modifiedOn", "topics"):
        assert key in done
    fetch = done["topics"][0]
    assert fetch["name"] == "Fetch" and fetch["description"] == "Fetch the sources"
    assert fetch["type"] == "Isoqube.Topics.Fetch"
    assert set(SEED_RUN_TIMES) <= set(fetch)
    assert fetch["invokedOn"] <= fetch["completedOn"] == done["steps"][0]["completedOn"]


def test_the_seeds_run_configuration_is_run_as_given(controlcenter):
    config = {"name": "adhoc", "topics": [{"name": "Build"}]}

    run = controlcenter.client.post("/api/configuration/run", json={
        "description": "unsaved", "runConfiguration": config}).json()

    assert run["configurationName"] == "adhoc" and [s["topic"] for s in run["steps"]] == ["Build"]
    controlcenter.wait_for(run["id"], "completed")
    assert "adhoc" not in [c["name"] for c in controlcenter.client.get(
        "/api/configuration/all").json()]


def test_a_run_configuration_without_steps_names_a_saved_one(controlcenter):
    saved = controlcenter.client.get("/api/configuration/fetch-build").json()

    run = controlcenter.client.post("/api/configuration/run", json={
        "runConfiguration": {"id": saved["id"]}}).json()

    assert run["configurationId"] == saved["id"]


def test_posting_an_existing_run_id_reruns_it(controlcenter):
    first = controlcenter.start_run("fetch-build", ingestionId="rev-9")
    controlcenter.wait_for(first["id"], "completed")

    response = controlcenter.client.post("/api/configuration/run", json={
        "id": first["id"], "description": "again"})

    assert response.status_code == 201
    again = response.json()
    assert again["id"] != first["id"] and again["description"] == "again"
    assert again["ingestionId"] == "rev-9"
    controlcenter.wait_for(again["id"], "completed")


BAD_RUN_REQUESTS = [
    pytest.param({}, 400, "configuration", "say what to run", id="nothing-to-run"),
    pytest.param({"configuration": "nope"}, 404, None, "no configuration", id="unknown-config"),
    pytest.param({"id": "no-such-run"}, 404, None, "no run", id="unknown-run"),
    pytest.param({"configuration": "fetch-build", "payload": [1]}, 400, "payload",
                 "must be a JSON object", id="payload-not-object"),
    pytest.param({"configuration": "fetch-build", "description": 5}, 400, "description",
                 "must be a string", id="description-not-string"),
    pytest.param({"configuration": 5}, 400, "configuration", "must be a string",
                 id="configuration-not-string"),
    pytest.param({"runConfiguration": "fetch-build"}, 400, "runConfiguration",
                 "must be a JSON object", id="run-configuration-not-object"),
    pytest.param({"runConfiguration": {"description": "no steps, no name"}}, 400,
                 "runConfiguration", "no steps", id="run-configuration-empty"),
    pytest.param({"runConfiguration": {"name": "x", "steps": [{"topic": "Nope"}]}}, 400,
                 "runConfiguration.steps[0].topic", "unknown topic", id="unknown-topic"),
    pytest.param({"runConfiguration": {"name": "x", "steps": [
        {"topic": "Fetch", "retry": {"attempts": 0}}]}}, 400,
        "runConfiguration.steps[0].retry.attempts", "retry attempts", id="invalid-retry"),
]


@pytest.mark.parametrize(("body", "status", "field", "says"), BAD_RUN_REQUESTS)
def test_a_bad_run_request_is_refused_and_starts_nothing(controlcenter, body, status, field,
                                                         says):
    response = controlcenter.client.post("/api/configuration/run", json=body)

    assert_refused(response, status, field, says)
    assert controlcenter.client.get("/api/configuration/run/all").json() == []


def test_runs_are_listed_newest_first_a_page_at_a_time(controlcenter):
    ids = [controlcenter.start_run("fetch-build", description=f"run {i}")["id"]
           for i in range(5)]

    first = controlcenter.client.get("/api/configuration/run/all", params={"limit": 2})
    second = controlcenter.client.get(first.links["next"]["url"])
    last = controlcenter.client.get("/api/configuration/run/all",
                                    params={"limit": 2, "offset": 4})

    newest_first = ids[::-1]
    assert [r["id"] for r in first.json()] == newest_first[:2]
    assert [r["id"] for r in second.json()] == newest_first[2:4]
    assert [r["id"] for r in last.json()] == newest_first[4:]
    assert "next" not in last.links


def test_runs_are_filtered_by_status_and_configuration(controlcenter):
    good = controlcenter.start_run("fetch-build")
    bad = controlcenter.start_run("flaky", payload={"fail": True})
    controlcenter.wait_for(good["id"], "completed")
    controlcenter.wait_for(bad["id"], "failed")

    def listed(**params) -> list[str]:
        found = controlcenter.client.get("/api/configuration/run/all", params=params).json()
        return [r["id"] for r in found]

    assert listed(status="failed") == [bad["id"]]
    assert listed(status="completed") == [good["id"]]
    assert listed(configuration="flaky") == [bad["id"]]
    assert listed(configuration="fetch-build", status="failed") == []


def test_the_summary_view_lists_runs_without_step_outputs(controlcenter):
    run = controlcenter.start_run("fetch-build")
    controlcenter.wait_for(run["id"], "completed")

    [summary] = controlcenter.client.get("/api/configuration/run/all",
                                         params={"view": "summary"}).json()

    assert summary["id"] == run["id"] and summary["status"] == "completed"
    assert [s["status"] for s in summary["steps"]] == ["completed", "completed"]
    assert "output" not in summary["steps"][0] and "topics" not in summary


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "ten"}, "limit"),
    ({"offset": -1}, "offset"), ({"status": "finished"}, "status"), ({"view": "all"}, "view"),
])
def test_bad_run_list_parameters_are_refused(controlcenter, params, field):
    response = controlcenter.client.get("/api/configuration/run/all", params=params)

    assert_refused(response, 400, field)


def test_a_failed_run_shows_the_error_of_its_step(controlcenter):
    run = controlcenter.start_run("flaky", payload={"fail": True})

    failed = controlcenter.wait_for(run["id"], "failed")

    flaky = failed["steps"][1]
    assert flaky["status"] == "failed" and flaky["attempts"] == 2
    assert "flaky broke on purpose" in flaky["error"]
    assert "flaky broke on purpose" in failed["error"]
    assert failed["topics"][1]["failedOn"] == flaky["failedOn"]


def test_an_unknown_run_is_404(controlcenter):
    assert_refused(controlcenter.client.get("/api/configuration/run/nope"), 404, says="nope")


def test_cancelling_a_running_run_cancels_its_unfinished_steps(controlcenter):
    run = controlcenter.start_run("held")
    controlcenter.wait_for_step(run["id"], "Hold", "running")

    response = controlcenter.client.post(f"/api/configuration/run/{run['id']}/cancel", json={})

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["steps"][1]["status"] == "cancelled"


def test_cancelling_a_finished_run_is_a_conflict(controlcenter):
    run = controlcenter.start_run("fetch-build")
    controlcenter.wait_for(run["id"], "completed")

    response = controlcenter.client.post(f"/api/configuration/run/{run['id']}/cancel", json={})

    assert_refused(response, 409, None, "already completed")
    assert_refused(controlcenter.client.post("/api/configuration/run/nope/cancel", json={}), 404)


def test_resuming_a_failed_run_continues_from_the_failed_step(controlcenter):
    run = controlcenter.start_run("held")
    controlcenter.wait_for_step(run["id"], "Hold", "running")
    controlcenter.client.post(f"/api/configuration/run/{run['id']}/cancel", json={})
    controlcenter.release.set()

    response = controlcenter.client.post(f"/api/configuration/run/{run['id']}/resume", json={})

    assert response.status_code == 200
    assert response.json()["status"] in ("running", "completed")
    done = controlcenter.wait_for(run["id"], "completed")
    assert done["steps"][1]["output"] == {"released": True}


def test_resuming_a_run_that_did_not_fail_is_a_conflict(controlcenter):
    run = controlcenter.start_run("fetch-build")
    controlcenter.wait_for(run["id"], "completed")

    response = controlcenter.client.post(f"/api/configuration/run/{run['id']}/resume", json={})

    assert_refused(response, 409, None, "only failed, cancelled or pending")
    assert_refused(controlcenter.client.post("/api/configuration/run/nope/resume", json={}), 404)


# /api/init: a first topic published outside any run.


def test_init_publishes_the_first_topic_of_a_configuration_outside_any_run(
        controlcenter, registry):
    response = controlcenter.client.post("/api/init", json={"configuration": "held"})

    assert response.status_code == 202
    assert response.json()["topic"] == "Fetch" and response.json()["ingestionId"]
    worker = controlcenter.engine.worker_stats
    assert wait_until(lambda: worker()["handled"] >= 1)
    assert controlcenter.client.get("/api/configuration/run/all").json() == []


@pytest.mark.parametrize(("body", "status", "field"), [
    pytest.param({}, 400, "topic", id="nothing"),
    pytest.param({"topic": "Nope"}, 404, "topic", id="unknown-topic"),
    pytest.param({"configuration": "nope"}, 404, None, id="unknown-configuration"),
    pytest.param({"topic": "Fetch", "payload": "x"}, 400, "payload", id="payload-not-object"),
])
def test_a_bad_init_request_is_refused(controlcenter, body, status, field):
    assert_refused(controlcenter.client.post("/api/init", json=body), status, field)


# Unknown endpoints.


def test_an_unknown_endpoint_or_method_gets_a_json_error(controlcenter):
    assert_refused(controlcenter.client.get("/api/nothing-here"), 404, says="no such endpoint")
    assert_refused(controlcenter.client.delete("/api/configuration/all"), 405,
                   says="not allowed")


# Live events (server-sent events).


def read_events(client: httpx.Client, until: Callable[[dict], bool],
                connected: threading.Event | None = None, **request) -> list[dict]:
    """The events of /api/events up to the first one ``until`` accepts.
    ``connected`` is set once the server listens for this client."""
    events = []
    with client.stream("GET", "/api/events", **request) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        seq = None
        for line in response.iter_lines():
            if line.startswith("retry: ") and connected is not None:
                connected.set()  # sent once the stream's listener is added
            elif line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("data: "):
                event = json.loads(line[6:])
                assert event["seq"] == seq
                events.append(event)
                if until(event):
                    return events
    raise AssertionError("the stream ended")


def run_ended(run_id: str, status: str = "completed") -> Callable[[dict], bool]:
    return lambda e: e["runId"] == run_id and e["step"] < 0 and e["to"] == status


def any_run_ended(event: dict) -> bool:
    return event["step"] < 0 and event["to"] == "completed"


def listen_in_background(client: httpx.Client, until: Callable[[dict], bool]
                         ) -> Callable[[], list[dict]]:
    """Starts reading events on a thread; returns once the server listens,
    with a function that waits for the events read."""
    connected = threading.Event()
    result: list = []
    thread = threading.Thread(
        target=lambda: result.append(read_events(client, until, connected)), daemon=True)
    thread.start()
    assert connected.wait(WAIT)

    def events() -> list[dict]:
        thread.join(WAIT)
        assert result, "no end event came"
        return result[0]

    return events


def test_the_event_stream_sends_a_runs_transitions_live_in_order(controlcenter):
    # Given a run held in its second step, and a client listening
    run = controlcenter.start_run("held")
    controlcenter.wait_for_step(run["id"], "Hold", "running")
    events = listen_in_background(controlcenter.client, run_ended(run["id"]))

    # When the step is released
    controlcenter.release.set()

    # Then the client gets the rest of the run, in order, each event once
    received = events()
    seqs = [e["seq"] for e in received]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [(e["stepName"], e["from"], e["to"]) for e in received] == [
        ("Hold", "running", "completed"), ("", "running", "completed")]


def test_a_reconnecting_client_gets_the_events_it_missed(controlcenter):
    run = controlcenter.start_run("fetch-build")
    controlcenter.wait_for(run["id"], "completed")
    log = controlcenter.engine.event_log(run["id"])

    missed = read_events(controlcenter.client, run_ended(run["id"]),
                         headers={"Last-Event-ID": str(log[0].seq)})

    assert [e["seq"] for e in missed] == [e.seq for e in log[1:]]


def test_the_event_stream_of_one_run_leaves_out_the_others(controlcenter):
    other = controlcenter.start_run("fetch-build")
    run = controlcenter.start_run("fetch-build")
    controlcenter.wait_for(run["id"], "completed")
    controlcenter.wait_for(other["id"], "completed")

    events = read_events(controlcenter.client, run_ended(run["id"]),
                         params={"run": run["id"], "after": 0})

    assert events and {e["runId"] for e in events} == {run["id"]}
    assert (events[0]["step"], events[0]["from"]) == (-1, "")


def test_the_event_stream_brings_transitions_committed_by_another_process(
        controlcenter, sqlite_store):
    # Given another engine on the same SQLite store, standing for another
    # process: its transitions reach the controlcenter only through the
    # store's event log
    other_registry = isoqube.Registry()
    other_registry.topic("Elsewhere")(type("Elsewhere", (), {}))
    other_registry.consumer("Elsewhere", service="elsewhere", name="ElsewhereConsumer")(
        lambda ctx: {"where": "there"})
    other = isoqube.Engine("memory://", sqlite_store, registry=other_registry)
    try:
        other.start()
        # The only run there is: its end can come before start_run returns.
        events = listen_in_background(controlcenter.client, any_run_ended)

        # When it runs a configuration
        run = other.start_run(isoqube.Configuration("elsewhere", ["Elsewhere"]))

        # Then the controlcenter's stream has its transitions
        received = [e for e in events() if e["runId"] == run.id]
        assert [(e["stepName"], e["to"]) for e in received][-2:] == [
            ("Elsewhere", "completed"), ("", "completed")]
    finally:
        other.close()


def test_a_bad_last_event_id_is_refused(controlcenter):
    response = controlcenter.client.get("/api/events", headers={"Last-Event-ID": "soon"})

    assert_refused(response, 400, "Last-Event-ID", "integer")


# Metrics.


def metric_values(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_metrics_count_runs_and_steps_by_status_failures_and_durations(controlcenter):
    good = controlcenter.start_run("fetch-build")
    bad = controlcenter.start_run("flaky", payload={"fail": True})
    controlcenter.wait_for(good["id"], "completed")
    controlcenter.wait_for(bad["id"], "failed")

    def scraped() -> dict[str, float]:
        response = controlcenter.client.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        return metric_values(response.text)

    def settled() -> bool:
        values = scraped()
        return (values['isoqube_runs{status="completed"}'] == 1
                and values['isoqube_runs{status="failed"}'] == 1)

    assert wait_until(settled)
    values = scraped()
    assert values['isoqube_steps{status="completed"}'] == 3
    assert values['isoqube_steps{status="failed"}'] == 1
    assert values['isoqube_step_failures_total{step="Flaky"}'] == 2  # retrying, failed
    assert values['isoqube_step_duration_seconds_count{step="Build"}'] == 1
    assert values['isoqube_step_duration_seconds_bucket{step="Build",le="+Inf"}'] == 1
    assert values['isoqube_worker_messages_total{outcome="handled"}'] >= 3
    assert values['isoqube_worker_messages_total{outcome="failed"}'] >= 1
    assert values["isoqube_metrics_loaded"] == 1
