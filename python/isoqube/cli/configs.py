"""``isoqube topics`` and ``isoqube configs list|show|create``."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from isoqube import console, errors, json_input
from isoqube.cli.common import UsageError, add_consumer_options, open_engine, warn


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    topics = commands.add_parser(
        "topics", parents=[common], help="list registered topics",
        description="Lists the topics of the services given with --import/--module and those "
                    "saved in the store by workers that ran.")
    add_consumer_options(topics)
    topics.add_argument("--json", action="store_true", help="print JSON")
    topics.set_defaults(handler=list_topics)

    group = commands.add_parser("configs", parents=[common], help="manage configurations",
                                description="Configurations (run definitions).")
    group.set_defaults(group_parser=group)
    sub = group.add_subparsers(dest="configs_command", metavar="COMMAND")
    listing = sub.add_parser("list", parents=[common], help="list configurations")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_configurations)
    show = sub.add_parser("show", parents=[common], help="show one configuration")
    show.add_argument("name", metavar="NAME", help="configuration name or id")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_configuration)
    create = sub.add_parser(
        "create", parents=[common], help="create or replace a configuration from a file",
        description="Saves the configuration in FILE (JSON, or TOML when it ends in .toml), "
                    "replacing one of the same name. Topics are checked against those of "
                    "--import/--module and those saved in the store. The format: "
                    "docs/configuration.md in isoqube's sources; its JSON Schema: "
                    "isoqube configs schema. What configs show --json prints is accepted.")
    create.add_argument("file", metavar="FILE", help="a .json or .toml file")
    add_consumer_options(create)
    create.add_argument("--json", action="store_true", help="print the saved configuration")
    create.set_defaults(handler=create_configuration)
    schema = sub.add_parser("schema", parents=[common],
                            help="print the JSON Schema of configuration files",
                            description="Prints the JSON Schema of a configuration (files, "
                                        "the HTTP API): docs/configuration.md explains it.")
    schema.set_defaults(handler=print_schema)


def configuration_schema() -> dict:
    """The JSON Schema of a configuration, shipped in the package."""
    return json.loads(resources.files("isoqube").joinpath(
        "configuration.schema.json").read_text(encoding="utf-8"))


def print_schema(args: argparse.Namespace) -> int:
    console.print_json(configuration_schema())
    return 0


def list_topics(args: argparse.Namespace) -> int:
    engine = open_engine(args, consumers=True)
    consumers: dict = {}
    for consumer in engine.consumers():
        consumers.setdefault(consumer.topic, []).append(consumer)
    topics = {t.name: t for t in _stored_topics(engine)}
    topics.update({t.name: t for t in engine.topics()})
    ordered = [topics[name] for name in sorted(topics)]
    if args.json:
        console.print_json([t.to_dict() for t in ordered])
        return 0
    if not ordered:
        print("no topics: pass --import/--module, or start a worker once so the store has them",
              file=sys.stderr)
        return 0
    rows = []
    for topic in ordered:
        handling = consumers.get(topic.name, [])
        handlers = ", ".join(f"{c.name} ({c.service or '-'})" for c in handling)
        rows.append([topic.name, topic.description, topic.entity_name, handlers or "-"])
    print(console.table(["topic", "description", "entity", "consumers (service)"], rows))
    return 0


def list_configurations(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    configurations = sorted(engine.configurations(), key=lambda c: c.name)
    if args.json:
        console.print_json([c.to_dict() for c in configurations])
        return 0
    rows = [[c.name, len(c.steps), c.id, c.description] for c in configurations]
    print(console.table(["name", "steps", "id", "description"], rows, right=(1,)))
    return 0


def show_configuration(args: argparse.Namespace) -> int:
    engine = open_engine(args)
    config = engine.configuration(args.name)
    if args.json:
        console.print_json(config.to_dict())
        return 0
    print(f"configuration: {config.name}\nid:            {config.id}\n"
          f"description:   {config.description or '-'}\n")
    print(configuration_table(config))
    return 0


def configuration_table(config: Any) -> str:
    rows = []
    for step in config.steps:
        after = ", ".join(step.after) if step.after else "-"
        retry = step.retry
        policy = "-" if retry.attempts <= 1 else (
            f"{retry.attempts} attempts, {retry.interval:g} s x{retry.backoff:g}")
        payload = json.dumps(step.payload) if step.payload else ""
        rows.append([step.name, step.topic, after, policy, payload])
    return console.table(["step", "topic", "after", "retry", "payload"], rows)


def create_configuration(args: argparse.Namespace) -> int:
    raw = _read_file(args.file)
    engine = open_engine(args, consumers=True)
    saved = save_configuration_text(engine, raw, args.file)
    if args.json:
        console.print_json(saved.to_dict())
    else:
        print(f"saved configuration '{saved.name}' ({saved.id}) with {len(saved.steps)} steps")
    return 0


def save_configuration_text(engine: Any, raw: bytes, path: str) -> Any:
    """Reads a configuration from the bytes of the file `path` (TOML when it
    ends in .toml, else JSON), checks its topics and saves it. Raises
    UsageError naming `path` and what is wrong; nothing is saved then."""
    data = parse_configuration(raw, path)
    try:
        _check_topics(engine, data)
        # The core reads the dict itself: its errors name the offending field.
        return engine.save_configuration(data)
    except (ValueError, TypeError, LookupError) as e:
        raise UsageError(f"{path}: {_reason(e)}") from e


def _read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None


def parse_configuration(raw: bytes, path: str) -> dict:
    """The configuration in the bytes of the file `path`, as a dict: TOML when
    `path` ends in .toml, else JSON. Raises UsageError naming `path` and where
    it is malformed."""
    if Path(path).suffix.lower() == ".toml":
        data = _parse_toml(raw, path)
    else:
        try:
            data = json_input.loads(raw.decode("utf-8"))
        except json_input.JsonInputError as e:
            raise UsageError(f"{path}: invalid JSON: {e}") from None
        except UnicodeDecodeError as e:
            raise UsageError(f"{path}: not UTF-8 text ({e.reason})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a configuration must be an object, not {type(data).__name__}")
    return data


def _parse_toml(raw: bytes, path: str) -> dict:
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise UsageError(f"{path}: reading TOML needs Python 3.11+ or the 'tomli' package "
                             "(pip install tomli); or write the configuration as JSON") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
        # As JSON from anywhere: TOML has nan and inf, and nests too.
        json_input.check_value(data)
        _dates_as_text(data)
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: not UTF-8 text ({e.reason})") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{path}: invalid TOML: {e}") from None
    except RecursionError:  # tomllib recurses into nested arrays and tables
        raise UsageError(f"{path}: invalid TOML: it nests more than "
                         f"{json_input.MAX_TEXT_DEPTH} levels deep") from None
    except json_input.JsonInputError as e:
        raise UsageError(f"{path}: invalid TOML: {e}") from None
    return data


def _dates_as_text(data: dict) -> None:
    """TOML's dates and times become the ISO 8601 text a JSON configuration
    would hold ("1979-05-27T07:32:00+00:00", "1979-05-27", "07:32:00").
    In place, iteratively (check_value bounded the depth already)."""
    pending: list[Any] = [data]
    while pending:
        item = pending.pop()
        keys = item.keys() if isinstance(item, dict) else range(len(item))
        for key in keys:
            value = item[key]
            if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
                item[key] = value.isoformat()
            elif isinstance(value, (dict, list)):
                pending.append(value)


def _check_topics(engine: Any, data: dict) -> None:
    # The engine checks topics only against what it registered; the CLI
    # usually registers nothing, so also check against the store's topics.
    if engine.topics():
        return
    known = {t.name for t in _stored_topics(engine)}
    if not known:
        warn("no topics are registered or saved in the store, so topic names were not "
             "checked; pass --import/--module to check them")
        return
    for topic in _topics_in(data):
        if topic not in known:
            raise errors.ConfigurationError(
                f"unknown topic '{topic}' (known: {', '.join(sorted(known))})")


def _topics_in(data: dict) -> list:
    """The topic names a configuration dict uses, in its own shape or the
    seed's; malformed parts are skipped here and reported by the core."""
    found = []
    for key, field in (("steps", "topic"), ("topics", "name")):
        items = data.get(key)
        for item in items if isinstance(items, list) else ():
            topic = item.get(field) if isinstance(item, dict) else item
            if isinstance(topic, str):
                found.append(topic)
    return found


def _stored_topics(engine: Any) -> list:
    # The topics that workers saved in the store when they started.
    return engine.stored_topics()


def _reason(e: BaseException) -> str:
    if isinstance(e, KeyError):
        return f"missing field {e}"
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
