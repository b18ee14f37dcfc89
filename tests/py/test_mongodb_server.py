"""The MongoDB-wire test server, judged by pymongo: it answers with the
credentials in its URI and refuses a wrong password, so the store's tests run
against a server that authenticates as a production MongoDB does."""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import quote

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure
from pymongo.uri_parser import parse_uri

AUTHENTICATION_FAILED = 18
TIMEOUT_MS = 10_000


def with_password(uri: str, password: str) -> str:
    """`uri` with its password replaced (it must have a user)."""
    scheme, rest = uri.split("://", 1)
    authority_end = min(i for i in (rest.find("/"), rest.find("?"), len(rest)) if i >= 0)
    authority, tail = rest[:authority_end], rest[authority_end:]
    userinfo, _, hosts = authority.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:{quote(password, safe='')}@{hosts}{tail}"


def test_the_server_answers_with_the_uri_credentials(mongodb_uri: str) -> None:
    with MongoClient(mongodb_uri, serverSelectionTimeoutMS=TIMEOUT_MS) as client:
        assert client.admin.command("ping")["ok"] == 1
        # A command that needs an authenticated user, unlike ping.
        db = client[f"isoqube_test_{uuid.uuid4().hex[:8]}"]
        try:
            db.probe.insert_one({"_id": 1})
            assert db.probe.find_one({"_id": 1}) == {"_id": 1}
        finally:
            client.drop_database(db.name)


def test_a_wrong_password_is_refused(mongodb_uri: str) -> None:
    if not parse_uri(mongodb_uri)["username"]:
        pytest.skip("the MongoDB named by ISOQUBE_TEST_MONGODB_URI is used without a user")
    wrong = with_password(mongodb_uri, "wrong-" + secrets.token_hex(8))
    with MongoClient(wrong, serverSelectionTimeoutMS=TIMEOUT_MS) as client:
        with pytest.raises(OperationFailure) as refused:
            client.admin.command("ping")
    assert refused.value.code == AUTHENTICATION_FAILED
