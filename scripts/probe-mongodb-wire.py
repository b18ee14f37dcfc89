#!/usr/bin/env python3
"""Probes a MongoDB-wire server for the behaviours Isoqube's MongoDB store
relies on, and prints PASS or FAIL for each.

Run by hand against the test server (FerretDB, scripts/mongodb) or a real
MongoDB, to see where they differ:

    scripts/probe-mongodb-wire.py 'mongodb://user:pass@127.0.0.1:PORT/?authSource=admin'

Needs pymongo. Works in a database of its own, dropped at the end. Checks
marked "(info)" are things Isoqube avoids; they do not fail the run. Exits 1
when a required check fails.
"""

from __future__ import annotations

import datetime
import math
import secrets
import sys
import threading
import traceback
from typing import Any, Callable

from bson.int64 import Int64
from pymongo import ASCENDING, MongoClient, ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure
from pymongo.uri_parser import parse_uri

RACERS = 16
RACE_ROUNDS = 20

Check = Callable[[Any], None]
CHECKS: list[tuple[str, bool, Check]] = []


def check(name: str, required: bool = True) -> Callable[[Check], Check]:
    """Registers a check: it gets a fresh collection and raises on a difference."""

    def register(function: Check) -> Check:
        CHECKS.append((name, required, function))
        return function

    return register


def expect(what: str, got: Any, want: Any) -> None:
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def run_doc(run_id: str = "r1") -> dict[str, Any]:
    """A run as the store keeps it: topics in an array, addressed by index."""
    return {
        "_id": run_id,
        "Name": run_id,
        "Topics": [{"Name": f"T{i}", "Status": "pending", "Attempts": 0} for i in range(3)]
        + [{"Name": "T3", "Status": "running", "Attempts": 1}],
        "Events": [],
        "Seq": Int64(0),
    }


GUARD = {"_id": "r1", "Topics.3.Status": "running", "Topics.3.Attempts": 1}


@check("find_one_and_update matches on dotted array paths")
def dotted_filter(coll) -> None:
    coll.insert_one(run_doc())
    missed = coll.find_one_and_update(
        {"_id": "r1", "Topics.3.Status": "running", "Topics.3.Attempts": 2},
        {"$set": {"Topics.3.Status": "done"}},
    )
    expect("a filter that does not hold", missed, None)
    before = coll.find_one_and_update(GUARD, {"$set": {"Topics.3.Status": "done"}})
    expect("the document before (default)", before and before["Topics"][3]["Status"], "running")
    expect("stored", coll.find_one({"_id": "r1"})["Topics"][3]["Status"], "done")


@check("$set of a BSON date with milliseconds at Topics.3.CompletedOn")
def set_date(coll) -> None:
    coll.insert_one(run_doc())
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=datetime.timezone.utc)
    coll.find_one_and_update(GUARD, {"$set": {"Topics.3.CompletedOn": when}})
    expect("stored date", coll.find_one({"_id": "r1"})["Topics"][3]["CompletedOn"], when)


@check("$inc on a nested and a top-level int64")
def inc(coll) -> None:
    coll.insert_one(run_doc())
    after = coll.find_one_and_update(
        GUARD,
        {"$inc": {"Topics.3.Attempts": 1, "Seq": Int64(5)}},
        return_document=ReturnDocument.AFTER,
    )
    expect("Attempts", after["Topics"][3]["Attempts"], 2)
    expect("Seq", after["Seq"], 5)
    expect("Seq's type", type(after["Seq"]), Int64)


@check("$push with $each of several sub-documents")
def push_each(coll) -> None:
    coll.insert_one(run_doc())
    events = [{"At": i, "What": f"e{i}", "Data": {"k": [i, None]}} for i in range(3)]
    coll.update_one({"_id": "r1"}, {"$push": {"Events": {"$each": events[:2]}}})
    coll.update_one({"_id": "r1"}, {"$push": {"Events": {"$each": events[2:]}}})
    expect("Events", coll.find_one({"_id": "r1"})["Events"], events)


@check("$max on a number")
def max_number(coll) -> None:
    coll.insert_one({"_id": 1, "High": 5})
    coll.update_one({"_id": 1}, {"$max": {"High": 3}})
    expect("after a smaller $max", coll.find_one({"_id": 1})["High"], 5)
    coll.update_one({"_id": 1}, {"$max": {"High": 9, "New": 2}})
    doc = coll.find_one({"_id": 1})
    expect("after a larger $max", doc["High"], 9)
    expect("$max of a missing field", doc["New"], 2)


@check("return_document=AFTER returns the updated document")
def return_after(coll) -> None:
    coll.insert_one(run_doc())
    after = coll.find_one_and_update(
        GUARD, {"$set": {"Topics.3.Status": "done"}}, return_document=ReturnDocument.AFTER
    )
    expect("Status", after["Topics"][3]["Status"], "done")


def race(coll, attempt: Callable[[], bool]) -> list[int]:
    """Runs `attempt` in RACERS threads at once, RACE_ROUNDS times on a fresh
    run document; returns the number of winners of each round."""
    winners_per_round = []
    for _ in range(RACE_ROUNDS):
        coll.delete_many({})
        coll.insert_one(run_doc())
        winners_per_round.append(race_round(attempt))
    return winners_per_round


def race_round(attempt: Callable[[], bool]) -> int:
    barrier = threading.Barrier(RACERS)
    wins: list[bool] = []
    errors: list[BaseException] = []

    def racer() -> None:
        try:
            barrier.wait()
            wins.append(attempt())
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(wins)


def expect_one_winner(coll, winners: list[int]) -> None:
    if any(n != 1 for n in winners):
        raise AssertionError(f"winners per round {winners}, want 1 in each")
    expect(
        "Attempts after the last round", coll.find_one({"_id": "r1"})["Topics"][3]["Attempts"], 2
    )


@check(f"race: {RACERS} threads x the same guarded find_one_and_update, 1 winner")
def race_find_and_modify(coll) -> None:
    def attempt() -> bool:
        won = coll.find_one_and_update(GUARD, {"$inc": {"Topics.3.Attempts": 1}})
        return won is not None

    expect_one_winner(coll, race(coll, attempt))


@check(f"race: {RACERS} threads x the same guarded update_one, 1 modified")
def race_update(coll) -> None:
    def attempt() -> bool:
        return coll.update_one(GUARD, {"$inc": {"Topics.3.Attempts": 1}}).modified_count == 1

    expect_one_winner(coll, race(coll, attempt))


@check(f"race: {RACERS} threads x delete_one of the same document, 1 deleted")
def race_delete(coll) -> None:
    def attempt() -> bool:
        return coll.delete_one(GUARD).deleted_count == 1

    winners = race(coll, attempt)
    if any(n != 1 for n in winners):
        raise AssertionError(f"deleters per round {winners}, want 1 in each")


@check("insert_one of a duplicate _id: DuplicateKeyError 11000")
def duplicate_insert_one(coll) -> None:
    coll.insert_one({"_id": "a"})
    try:
        coll.insert_one({"_id": "a", "x": 1})
    except DuplicateKeyError as error:
        expect("code", error.code, 11000)
    else:
        raise AssertionError("the duplicate was accepted")
    expect("the first kept", coll.find_one({"_id": "a"}), {"_id": "a"})


@check("insert_many with a duplicate _id: write error 11000, ordered stop")
def duplicate_insert_many(coll) -> None:
    coll.insert_one({"_id": 2})
    try:
        coll.insert_many([{"_id": 1}, {"_id": 2}, {"_id": 3}])
    except BulkWriteError as error:
        codes = [e["code"] for e in error.details["writeErrors"]]
        expect("write error codes", codes, [11000])
        expect("inserted", error.details["nInserted"], 1)
    else:
        raise AssertionError("the duplicate was accepted")
    expect("ids stored", sorted(d["_id"] for d in coll.find()), [1, 2])


@check("a unique index on Name is enforced")
def unique_index(coll) -> None:
    coll.create_index([("Name", ASCENDING)], unique=True, name="name_unique")
    coll.insert_one({"_id": 1, "Name": "x"})
    try:
        coll.insert_one({"_id": 2, "Name": "x"})
    except DuplicateKeyError as error:
        expect("code", error.code, 11000)
    else:
        raise AssertionError("a second document with the same Name was accepted")
    coll.insert_one({"_id": 3, "Name": "y"})
    expect("count", coll.count_documents({}), 2)


@check("create_index with an explicit name, twice")
def create_index_twice(coll) -> None:
    for _ in range(2):
        name = coll.create_index([("Status", ASCENDING), ("At", ASCENDING)], name="status_at")
        expect("name", name, "status_at")
    expect("indexes", sorted(coll.index_information()), ["_id_", "status_at"])


def fill(coll) -> None:
    coll.insert_many(
        [
            {
                "_id": i,
                "Name": f"n{i:02}",
                "Status": ["a", "b", "c"][i % 3],
                "Seq": Int64(2**40 + i),
                "Big": {"x": i},
            }
            for i in range(20)
        ]
    )


@check("find with sort, skip and limit")
def sort_skip_limit(coll) -> None:
    fill(coll)
    got = [d["_id"] for d in coll.find({}, sort=[("Name", -1)], skip=3, limit=4)]
    expect("ids", got, [16, 15, 14, 13])


@check("find with $in and $gt on an int64")
def in_and_gt(coll) -> None:
    fill(coll)
    got = sorted(
        d["_id"]
        for d in coll.find({"Status": {"$in": ["a", "c"]}, "Seq": {"$gt": Int64(2**40 + 12)}})
    )
    expect("ids", got, [14, 15, 17, 18])


@check("projection: including fields and excluding one")
def projection(coll) -> None:
    fill(coll)
    expect("included", coll.find_one({"_id": 4}, {"Name": 1}), {"_id": 4, "Name": "n04"})
    expect("included, no _id", coll.find_one({"_id": 4}, {"Name": 1, "_id": 0}), {"Name": "n04"})
    excluded = coll.find_one({"_id": 4}, {"Big": 0})
    expect("excluded", sorted(excluded), ["Name", "Seq", "Status", "_id"])


@check("count_documents and estimated_document_count")
def counts(coll) -> None:
    fill(coll)
    expect("count_documents", coll.count_documents({"Status": "b"}), 7)
    expect("estimated_document_count", coll.estimated_document_count(), 20)


@check("BSON dates round-trip with milliseconds")
def dates(coll) -> None:
    utc = datetime.timezone.utc
    values = [
        datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=utc),
        datetime.datetime(1970, 1, 1, tzinfo=utc),
        datetime.datetime(2099, 12, 31, 23, 59, 59, 999000, tzinfo=utc),
    ]
    coll.insert_one({"_id": 1, "When": values[0], "All": values})
    doc = coll.find_one({"_id": 1})
    expect("When", doc["When"], values[0])
    expect("All", doc["All"], values)
    expect("$gt on a date", coll.count_documents({"When": {"$gt": values[1]}}), 1)


@check("int64 round-trips")
def int64(coll) -> None:
    values = [Int64(2**62 + 1), Int64(-(2**63)), Int64(2**63 - 1), Int64(2**53 + 1), Int64(0)]
    coll.insert_one({"_id": 1, "Values": values, "One": values[0]})
    doc = coll.find_one({"_id": 1})
    expect("values", doc["Values"], values)
    expect("types", {type(v) for v in doc["Values"]}, {Int64})
    expect("filter on the exact value", coll.count_documents({"One": Int64(2**62 + 1)}), 1)


@check("nested documents and arrays of JSON-like values round-trip")
def nested(coll) -> None:
    data = {
        "empty": {},
        "emptyList": [],
        "list": [1, 2.5, "s", None, True, False, {}, {"a": [{"b": {}}]}],
        "deep": {"a": {"b": {"c": {"d": [{"e": []}]}}}},
        "unicode": "Grüße ✓ 日本",
        "float": 0.1,
        "negative": -7,
        "numericKeys": {"0": "zero", "10": "ten"},
        "spaces in key": 1,
    }
    coll.insert_one({"_id": 1, "Data": data})
    expect("Data", coll.find_one({"_id": 1})["Data"], data)


@check("arrays directly inside arrays round-trip", required=False)
def nested_arrays(coll) -> None:
    data = {"matrix": [[1, 2], [3]], "inDoc": [{"a": [1, []]}]}
    coll.insert_one({"_id": 1, "Data": data})
    expect("Data", coll.find_one({"_id": 1})["Data"], data)


@check("NaN and -0.0 round-trip", required=False)
def special_floats(coll) -> None:
    coll.insert_one({"_id": 1, "Zero": -0.0, "NaN": float("nan")})
    doc = coll.find_one({"_id": 1})
    expect("-0.0's sign", math.copysign(1, doc["Zero"]), -1.0)
    expect("NaN", math.isnan(doc["NaN"]), True)


@check("positional $ update of the array element the filter matched", required=False)
def positional(coll) -> None:
    coll.insert_one(run_doc())
    coll.update_one({"_id": "r1", "Topics.Name": "T1"}, {"$set": {"Topics.$.Status": "done"}})
    expect("T1's Status", coll.find_one({"_id": "r1"})["Topics"][1]["Status"], "done")


@check("$elemMatch on an array of sub-documents", required=False)
def elem_match(coll) -> None:
    coll.insert_one(run_doc())
    query = {"Topics": {"$elemMatch": {"Name": "T3", "Status": "running"}}}
    expect("count", coll.count_documents(query), 1)


@check("keys with dots round-trip (MongoDB 5+ accepts them)", required=False)
def dotted_keys(coll) -> None:
    coll.insert_one({"_id": 1, "Data": {"a.b": 1}})
    expect("Data", coll.find_one({"_id": 1})["Data"], {"a.b": 1})


@check("keys starting with $ round-trip (MongoDB 5+ accepts them)", required=False)
def dollar_keys(coll) -> None:
    coll.insert_one({"_id": 1, "Data": {"$ref": 1}})
    expect("Data", coll.find_one({"_id": 1})["Data"], {"$ref": 1})


def wrong_password_refused(uri: str) -> None:
    parsed = parse_uri(uri)
    if not parsed["username"]:
        raise AssertionError("the URI has no user; authentication cannot be checked")
    host, port = parsed["nodelist"][0]
    source = parsed["options"].get("authSource", parsed["database"] or "admin")
    client = MongoClient(
        host,
        port,
        username=parsed["username"],
        password="wrong" + secrets.token_hex(4),
        authSource=source,
        serverSelectionTimeoutMS=5000,
    )
    try:
        client.admin.command("ping")
    except OperationFailure as error:
        expect("code", error.code, 18)  # AuthenticationFailed
    else:
        raise AssertionError("a wrong password was accepted")
    finally:
        client.close()
    anonymous = MongoClient(host, port, serverSelectionTimeoutMS=5000)
    try:
        anonymous["isoqube_probe"].list_collection_names()
    except OperationFailure:
        pass
    else:
        raise AssertionError("a client without credentials may list collections")
    finally:
        anonymous.close()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    uri = sys.argv[1]
    client = MongoClient(uri, tz_aware=True, maxPoolSize=RACERS + 4, serverSelectionTimeoutMS=10000)
    server = client.server_info()
    ferretdb = server.get("ferretdbVersion")
    print(f"server: MongoDB {server.get('version')}", f"(FerretDB {ferretdb})" if ferretdb else "")
    db = client[f"isoqube_probe_{secrets.token_hex(4)}"]
    failed = 0
    passed = 0
    try:
        checks: list[tuple[str, bool, Callable[[], None]]] = [
            (
                "a wrong password and no credentials are refused",
                True,
                lambda: wrong_password_refused(uri),
            ),
        ]
        for number, (name, required, function) in enumerate(CHECKS):
            coll = db[f"c{number}"]
            checks.append((name, required, lambda f=function, c=coll: f(c)))
        for name, required, run in checks:
            label = name if required else f"{name} (info)"
            try:
                run()
            except Exception as error:
                reason = str(error) or traceback.format_exception_only(type(error), error)[-1]
                reason = reason.split(", full error:")[0].strip()
                print(f"FAIL {label}: {type(error).__name__}: {reason[:200]}")
                failed += required
            else:
                print(f"PASS {label}")
                passed += 1
    finally:
        client.drop_database(db.name)
        client.close()
    print(f"probe: {passed} of {len(checks)} checks passed, {failed} required ones failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
