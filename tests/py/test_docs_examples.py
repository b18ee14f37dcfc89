"""Every code block of README.md and docs/*.md runs as written.

Fenced ```python blocks run in a fresh interpreter, ```sh blocks in bash
(-e: every command must succeed), each in an empty temporary folder with
the installed package and its ``isoqube`` command, on the embedded defaults
(memory:// transport, a SQLite file in that folder). A block that cannot run
so (it needs a server, serves until Ctrl+C, shows a synopsis or fragments
of a session) is preceded in its file by

    <!-- not-tested: the reason -->

which this module honours (and lists as skipped with the reason). Fences
without a language (folder trees, output) are not code and not collected.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LANGUAGES = {"python": "python", "py": "python", "sh": "sh", "bash": "sh", "shell": "sh",
             "console": "sh"}
# Not a time limit on the example: a bound so that a block that hangs fails.
HANG_SECONDS = 300

_FENCE = re.compile(r"^(```+)\s*([\w+-]*)\s*$")
_NOT_TESTED = re.compile(r"^<!--\s*not-tested:\s*(.+?)\s*-->$")


@dataclass
class Block:
    document: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    not_tested: str | None  # the reason, when marked

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def extract_blocks(document: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order, with the
    not-tested reason given just before each (blank lines between allowed)."""
    blocks: list[Block] = []
    lines = document.read_text(encoding="utf-8").splitlines()
    reason: str | None = None
    i = 0
    while i < len(lines):
        text = lines[i].strip()
        fence = _FENCE.match(text)
        marker = _NOT_TESTED.match(text)
        if marker:
            reason = marker.group(1)
        elif fence:
            end = i + 1
            while end < len(lines) and lines[end].strip() != fence.group(1):
                end += 1
            language = LANGUAGES.get(fence.group(2).lower())
            if language is not None:
                blocks.append(Block(document, i + 1, language,
                                    "\n".join(lines[i + 1:end]) + "\n", reason))
            reason = None
            i = end
        elif text:
            reason = None
        i += 1
    return blocks


def _all_blocks() -> list[Block]:
    return [block for document in DOCUMENTS for block in extract_blocks(document)]


def _environment(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISOQUBE_")}
    # The interpreter's folder holds the installed `isoqube` command.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(folder)
    return env


def run_block(block: Block, folder: Path) -> subprocess.CompletedProcess[str]:
    if block.language == "python":
        command = [sys.executable, "-c", block.code]
    else:
        command = ["bash", "-e", "-o", "pipefail", "-c", block.code]
    return subprocess.run(command, cwd=folder, env=_environment(folder), text=True,
                          capture_output=True, timeout=HANG_SECONDS, check=False)


@pytest.mark.parametrize("block", _all_blocks(), ids=lambda b: b.name)
def test_code_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    if block.not_tested:
        pytest.skip(f"not tested: {block.not_tested}")
    done = run_block(block, tmp_path)
    assert done.returncode == 0, (
        f"{block.name} ({block.language}) failed with exit status {done.returncode}\n"
        f"--- code\n{block.code}--- stdout\n{done.stdout}--- stderr\n{done.stderr}")


def test_the_extractor_honours_not_tested_markers_and_ignores_plain_fences(tmp_path) -> None:
    # Given a document with a marked block, an unmarked one and a plain fence
    document = tmp_path / "doc.md"
    document.write_text(
        "Intro\n\n<!-- not-tested: needs a broker -->\n\n```sh\nisoqube worker\n```\n\n"
        "```\nfolder/\n```\n\nText\n\n```python\nprint('hi')\n```\n", encoding="utf-8")
    # When its blocks are extracted
    blocks = extract_blocks(document)
    # Then both code blocks come, the first with its reason, the second
    # without (a marker applies to the next block only)
    assert [(b.line, b.language, b.code, b.not_tested) for b in blocks] == [
        (5, "sh", "isoqube worker\n", "needs a broker"),
        (15, "python", "print('hi')\n", None),
    ]


def test_every_document_has_code_blocks_collected() -> None:
    # A changed fence style must not make the suite silently test nothing.
    assert len(extract_blocks(ROOT / "README.md")) >= 4
    # configuration.md's blocks are data (a TOML file, the JSON Schema):
    # test_cli reads its TOML example with `configs create`; architecture.md's
    # are diagrams (plain fences).
    data_only = {"README.md", "configuration.md", "architecture.md"}
    assert all(extract_blocks(d) for d in DOCUMENTS if d.name not in data_only)
