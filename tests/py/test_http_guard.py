"""Who may reach the controlcenter's API: only JSON writes (a cross-site
form cannot send one), writes from its own origin or allowed ones, Host
names it answers to (no DNS rebinding) and, with a token, requests that
carry it; a token is required beyond loopback."""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Iterator

import httpx
import pytest
from conftest import WAIT
from isoqube import errors
from isoqube.controlcenter import Server
from test_cli import Child, isoqube
from test_controlcenter_api import assert_refused

TOKEN = "s3cret-token"


@contextlib.contextmanager
def served(engine, **options) -> Iterator[httpx.Client]:
    """Another controlcenter over the same engine, with ``options``."""
    server = Server(engine, port=0, poll=0.05, **options)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=WAIT) as client:
            yield client
    finally:
        server.stop()


def runs(controlcenter) -> list:
    return controlcenter.client.get("/api/configuration/run/all").json()


def test_a_post_without_a_content_type_is_refused_and_starts_nothing(controlcenter):
    response = controlcenter.client.post(
        "/api/configuration/run", content=b'{"configuration": "fetch-build"}')

    assert_refused(response, 415, "Content-Type", "Content-Type: application/json")
    assert runs(controlcenter) == []


@pytest.mark.parametrize("action", ["cancel", "resume"])
def test_a_bodiless_post_without_a_json_content_type_is_refused_and_changes_nothing(
        controlcenter, action):
    run = controlcenter.start_run("held")
    controlcenter.wait_for_step(run["id"], "Hold", "running")

    response = controlcenter.client.post(f"/api/configuration/run/{run['id']}/{action}")

    assert_refused(response, 415, "Content-Type")
    assert controlcenter.client.get(f"/api/configuration/run/{run['id']}").json()[
        "status"] == "running"


def test_a_bodiless_post_with_a_json_content_type_and_no_body_is_accepted(controlcenter):
    run = controlcenter.start_run("held")

    response = controlcenter.client.post(f"/api/configuration/run/{run['id']}/cancel",
                                         headers={"Content-Type": "application/json"})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"


def test_a_write_from_another_sites_page_is_refused_and_starts_nothing(controlcenter):
    response = controlcenter.client.post(
        "/api/configuration/run", json={"configuration": "fetch-build"},
        headers={"Origin": "https://evil.example"})

    assert_refused(response, 403, "Origin", "https://evil.example")
    assert runs(controlcenter) == []


def test_a_write_from_the_controlcenters_own_page_is_accepted(controlcenter):
    own = controlcenter.url.rstrip("/")

    response = controlcenter.client.post(
        "/api/configuration/run", json={"configuration": "fetch-build"},
        headers={"Origin": own})

    assert response.status_code == 201, response.text


def test_a_write_from_an_allowed_origin_is_accepted(controlcenter):
    with served(controlcenter.engine, allowed_origins=["https://ops.example"]) as client:
        response = client.post("/api/configuration/run", json={"configuration": "fetch-build"},
                               headers={"Origin": "https://ops.example"})

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example"])
def test_a_request_for_a_host_name_not_allowed_is_refused(controlcenter, host):
    # What a browser sends after an attacker's name was rebound to 127.0.0.1.
    for response in (controlcenter.client.get("/api/configuration/all", headers={"Host": host}),
                     controlcenter.client.post("/api/configuration/run", headers={"Host": host},
                                               json={"configuration": "fetch-build"})):
        assert_refused(response, 400, "Host", "--allowed-host")
    assert runs(controlcenter) == []


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:1", "127.0.0.1", "[::1]:8765"])
def test_loopback_host_names_are_answered(controlcenter, host):
    response = controlcenter.client.get("/api/health/live", headers={"Host": host})

    assert response.status_code == 200, response.text


def test_an_allowed_host_name_is_answered(controlcenter):
    with served(controlcenter.engine, allowed_hosts=["ops.example"]) as client:
        assert client.get("/api/info", headers={"Host": "ops.example:80"}).status_code == 200
        assert client.get("/api/info", headers={"Host": "other.example"}).status_code == 400


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_with_a_token_a_request_without_it_is_refused_with_both_challenges(controlcenter):
    with served(controlcenter.engine, token=TOKEN) as client:
        for response in (client.get("/api/configuration/run/all"), client.get("/"),
                         client.get("/api/events"),
                         client.post("/api/configuration/run",
                                     json={"configuration": "fetch-build"})):
            assert_refused(response, 401, "Authorization", "authentication required")
            challenges = response.headers.get_list("www-authenticate")
            assert [c.split()[0] for c in challenges] == ["Basic", "Bearer"]
    assert runs(controlcenter) == []


@pytest.mark.parametrize("headers", [
    {"Authorization": f"Bearer {TOKEN}"}, basic("anyone", TOKEN), basic("", TOKEN)],
    ids=["bearer", "basic", "basic-without-user"])
def test_with_a_token_a_request_that_carries_it_is_answered(controlcenter, headers):
    with served(controlcenter.engine, token=TOKEN) as client:
        assert client.get("/api/configuration/run/all", headers=headers).status_code == 200
        response = client.post("/api/configuration/run", headers=headers,
                               json={"configuration": "fetch-build"})
        assert response.status_code == 201, response.text


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer wrong"}, basic("isoqube", "wrong"), {"Authorization": TOKEN},
    {"Authorization": "Basic !!!"}], ids=["bearer", "basic", "no-scheme", "bad-base64"])
def test_with_a_token_a_wrong_one_is_refused(controlcenter, headers):
    with served(controlcenter.engine, token=TOKEN) as client:
        assert_refused(client.get("/api/configuration/run/all", headers=headers), 401,
                       "Authorization")


def test_with_a_token_the_health_checks_answer_without_it(controlcenter):
    with served(controlcenter.engine, token=TOKEN) as client:
        assert client.get("/api/health/live").json() == {"status": "live"}
        assert client.get("/api/health/ready").json() == {"status": "ready"}


def test_a_server_beyond_loopback_without_a_token_refuses_to_start(controlcenter):
    with pytest.raises(errors.ConfigurationError, match="needs a token"):
        Server(controlcenter.engine, "0.0.0.0", 0)


def test_the_cli_beyond_loopback_without_a_token_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.delenv("ISOQUBE_TOKEN", raising=False)

    result = isoqube("controlcenter", "--host", "0.0.0.0", "--port", "0", cwd=tmp_path)

    assert result.returncode == 2, result
    assert "--token or ISOQUBE_TOKEN" in result.stderr


def test_the_cli_beyond_loopback_serves_with_the_token_of_the_environment(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setenv("ISOQUBE_TOKEN", TOKEN)
    with Child("controlcenter", "--host", "0.0.0.0", "--port", "0", cwd=tmp_path) as child:
        port = re.search(r"isoqube controlcenter on http://0\.0\.0\.0:(\d+)/",
                         child.stdout.until("isoqube controlcenter on")).group(1)
        url = f"http://127.0.0.1:{port}/api/configuration/all"

        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
