"""What the HTTP API hands out is accepted back unchanged: every write
endpoint is fed its own output, and the seed's bodies exactly as the seed's
Configurator and a .NET client send them (ASP.NET camelCase records:
a configuration is {id, name, description, topics: [{name, description,
type, version}]}, a run request {id?, description, runConfiguration})."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_controlcenter_api import assert_refused

# How a .NET HttpClient labels JSON.
DOTNET_JSON = {"Content-Type": "application/json; charset=utf-8"}
SEED_HTTP = Path(__file__).resolve().parents[1] / "data" / "seed" / "http"


def seed_body(name: str) -> dict:
    """A body the seed's Configurator posts (tests/data/seed/http/)."""
    return json.loads((SEED_HTTP / name).read_text())


def listed(controlcenter, name: str) -> dict:
    configurations = controlcenter.client.get("/api/configuration/all").json()
    return next(c for c in configurations if c["name"] == name)


def test_the_seeds_client_flow_runs_a_listed_configuration_unchanged(controlcenter):
    # Given a configuration as GET /api/configuration/all lists it
    config = listed(controlcenter, "fetch-build")

    # When the seed's client starts a run of it, exactly as listed
    response = controlcenter.client.post("/api/configuration/run", json={
        "description": "nightly", "runConfiguration": config}, headers=DOTNET_JSON)

    # Then the run starts with its steps and completes
    assert response.status_code == 201, response.text
    run = response.json()
    assert [s["topic"] for s in run["steps"]] == ["Fetch", "Build"]
    assert controlcenter.wait_for(run["id"], "completed", "failed")["status"] == "completed"


@pytest.mark.parametrize("name", ["fetch-build", "held", "flaky"])
def test_a_listed_configuration_posted_back_unchanged_is_saved_as_it_was(controlcenter, name):
    config = listed(controlcenter, name)

    response = controlcenter.client.post("/api/configuration", json=config)

    assert response.status_code == 200, response.text
    assert response.json() == config
    assert listed(controlcenter, name) == config


def test_a_configuration_of_one_get_posted_back_unchanged_is_saved_as_it_was(controlcenter):
    config = controlcenter.client.get("/api/configuration/flaky").json()

    saved = controlcenter.client.post("/api/configuration", json=config).json()

    assert saved == config


def test_a_saved_configurations_answer_posted_back_is_saved_as_it_was(controlcenter):
    first = controlcenter.client.post("/api/configuration", json={
        "name": "fan", "steps": ["Fetch", {"topic": "Build", "retry": {"attempts": 2,
                                                                      "interval": 0.25}}]})
    assert first.status_code == 200, first.text

    again = controlcenter.client.post("/api/configuration", json=first.json())

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.json()["steps"][1]["retry"]["intervalMs"] == 250


def test_the_seeds_new_configuration_is_saved_as_sequential_steps(controlcenter):
    body = seed_body("new_configuration.json")

    response = controlcenter.client.post("/api/configuration", json=body, headers=DOTNET_JSON)

    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["id"] and saved["topics"] == body["topics"]
    assert [(s["topic"], s["after"]) for s in saved["steps"]] == [
        ("Fetch", []), ("Build", ["Fetch"])]


def test_the_seeds_edit_of_a_configuration_updates_it_by_id(controlcenter):
    config = listed(controlcenter, "fetch-build")
    seed = {"id": config["id"], "name": "fetch-build", "description": "edited in the seed",
            "topics": [{k: t[k] for k in ("name", "description", "type", "version")}
                       for t in config["topics"]][:1]}

    saved = controlcenter.client.post("/api/configuration", json=seed).json()

    assert saved["id"] == config["id"] and saved["description"] == "edited in the seed"
    assert [s["topic"] for s in saved["steps"]] == ["Fetch"]


def test_a_dotnet_empty_guid_id_makes_a_new_configuration(controlcenter):
    body = {"id": "00000000-0000-0000-0000-000000000000", "name": "guid", "description": "",
            "topics": [{"name": "Fetch", "description": "", "type": "", "version": ""}]}

    saved = controlcenter.client.post("/api/configuration", json=body).json()

    assert saved["id"] and saved["id"] != body["id"]


def test_registered_topics_put_into_a_configuration_as_listed_are_accepted(controlcenter):
    topics = {t["name"]: t for t in controlcenter.client.get("/api/registeredtopics").json()}

    response = controlcenter.client.post("/api/configuration", json={
        "name": "picked", "description": "", "topics": [topics["Fetch"], topics["Build"]]})

    assert response.status_code == 200, response.text
    assert [s["topic"] for s in response.json()["steps"]] == ["Fetch", "Build"]


def test_the_seeds_run_request_runs_its_configuration(controlcenter):
    response = controlcenter.client.post("/api/configuration/run",
                                         json=seed_body("run_request.json"),
                                         headers=DOTNET_JSON)

    assert response.status_code == 201, response.text
    controlcenter.wait_for(response.json()["id"], "completed")


def test_a_run_posted_back_unchanged_is_rerun(controlcenter):
    first = controlcenter.start_run("fetch-build", description="first")
    done = controlcenter.wait_for(first["id"], "completed")

    response = controlcenter.client.post("/api/configuration/run", json=done)

    assert response.status_code == 201, response.text
    again = response.json()
    assert again["id"] != done["id"] and again["configurationName"] == "fetch-build"
    controlcenter.wait_for(again["id"], "completed")


def test_init_publishes_the_first_topic_of_a_listed_configuration_unchanged(controlcenter):
    config = listed(controlcenter, "fetch-build")

    response = controlcenter.client.post("/api/init", json={"runConfiguration": config})

    assert response.status_code == 202, response.text
    assert response.json()["topic"] == "Fetch"


def test_a_configuration_whose_topics_disagree_with_its_steps_is_refused(controlcenter):
    config = listed(controlcenter, "fetch-build")
    config["topics"][1]["name"] = "Flaky"

    response = controlcenter.client.post("/api/configuration/run", json={
        "runConfiguration": config})

    assert_refused(response, 400, "runConfiguration.topics[1].name",
                   "is 'Flaky' but 'steps[1].topic' is 'Build'")
    assert controlcenter.client.get("/api/configuration/run/all").json() == []


def test_a_configuration_with_a_key_isoqube_does_not_know_is_refused_naming_it(controlcenter):
    before = controlcenter.client.get("/api/configuration/all").json()

    response = controlcenter.client.post("/api/configuration", json={
        "name": "typo", "steps": [{"topic": "Fetch", "retries": 3}]})

    assert_refused(response, 400, "steps[0].retries", "not a known key")
    assert controlcenter.client.get("/api/configuration/all").json() == before


def test_an_init_answer_posted_back_publishes_its_topic_again(controlcenter):
    first = controlcenter.client.post("/api/init", json={"configuration": "fetch-build"})
    assert first.status_code == 202, first.text

    again = controlcenter.client.post("/api/init", json=first.json())

    assert again.status_code == 202, again.text
    assert again.json() == first.json()


@pytest.mark.parametrize("action", ["cancel", "resume"])
def test_run_control_accepts_the_run_it_answered_with_as_its_body(controlcenter, action):
    run = controlcenter.start_run("held")
    controlcenter.wait_for_step(run["id"], "Hold", "running")
    cancelled = controlcenter.client.post(f"/api/configuration/run/{run['id']}/cancel",
                                          json={}).json()
    controlcenter.release.set()

    response = controlcenter.client.post(f"/api/configuration/run/{run['id']}/{action}",
                                         json=cancelled)

    assert response.status_code == (409 if action == "cancel" else 200), response.text
