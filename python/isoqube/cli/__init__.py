"""The ``isoqube`` command line (``python -m isoqube``)."""

from isoqube.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
