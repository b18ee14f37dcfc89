"""The repository explains itself: no tracked file points at a document
that lives outside it.

The design is docs/architecture.md and the other documents in the tree;
a comment or a page that sends its reader to a file next to the checkout
(a shared folder, a design note that was never committed) leaves a reader
of the repository with a dead end. This reads every tracked file, so the
rule stays true as files are added.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Built from pieces, so that this file does not name them itself; the
# folder beside the checkout by its path on this machine, whatever it is.
OUTSIDE_DOCUMENTS = ["../" + "shared", str(ROOT.parent / "shared"), "DESIGN" + ".md"]


def tracked_files() -> list[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: " + listed.stderr.decode(errors="replace").strip())
    return [name for name in listed.stdout.decode().split("\0") if name]


def lines_naming(name: str, documents: list[str]) -> list[str]:
    """``path:line: text`` of each line of the tracked file that names one of
    `documents`; files that are not UTF-8 text are read with replacements."""
    path = ROOT / name
    if not path.is_file():  # deleted in the working tree, not yet committed
        return []
    text = path.read_bytes().decode("utf-8", errors="replace")
    return [
        f"{name}:{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), start=1)
        if any(document in line for document in documents)
    ]


def test_no_tracked_file_names_a_document_outside_the_repository() -> None:
    found = [hit for name in tracked_files() for hit in lines_naming(name, OUTSIDE_DOCUMENTS)]
    assert not found, (
        "these lines point outside the repository; point them at "
        "docs/architecture.md or the document in the tree that says it:\n" + "\n".join(found)
    )


def test_the_architecture_document_is_tracked_and_linked_from_the_readme() -> None:
    assert "docs/architecture.md" in tracked_files()
    assert "docs/architecture.md" in (ROOT / "README.md").read_text(encoding="utf-8")
