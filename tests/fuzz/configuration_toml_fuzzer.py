"""Configurations from TOML files, the way `isoqube configs create FILE.toml`
reads them: Python's tomllib, the JSON limits (json_input), the CLI's topic
check, then the C++ core. An atheris (libFuzzer for Python) harness, run by
scripts/fuzz against the installed package.

Properties: bad input comes out as UsageError only, naming the file;
what the engine saves reads back: the saved configuration's to_dict() is
accepted again unchanged, and saves as the same configuration.

    .venv/bin/python tests/fuzz/configuration_toml_fuzzer.py [libFuzzer flags] [CORPUS...]
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import isoqube
    import tomllib  # noqa: F401  (instrumented for coverage, used by configs)
    from isoqube.cli import configs
    from isoqube.cli.common import UsageError

PATH = "fuzz.toml"


def make_engine() -> isoqube.Engine:
    # Topics of the seeds (tests/fuzz/corpus/configuration_toml), so that
    # inputs near them get past the topic check into the core.
    registry = isoqube.Registry()
    for name in ("Fetch", "Build", "Deploy", "DefaultSourceIngestion", "Probe"):
        registry.topic(name)(type(name, (), {}))
    return isoqube.Engine(registry=registry)


ENGINE = make_engine()


def test_one_input(data: bytes) -> None:
    try:
        saved = configs.save_configuration_text(ENGINE, data, PATH)
    except UsageError as e:
        if not str(e).startswith(f"{PATH}: "):
            raise AssertionError(f"an error that does not name the file: {e}") from e
        return
    written = saved.to_dict()
    again = ENGINE.save_configuration(written)
    if again.to_dict() != written:
        raise AssertionError(
            f"a saved configuration does not read back as itself:\n{written}\n{again.to_dict()}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
