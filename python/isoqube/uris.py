"""Server URIs as people may see them: with the password masked, as the
core's own messages show them."""

from __future__ import annotations

import re

__all__ = ["mask_uri"]

# scheme://user:password@... ; the password ends at the last "@" before the
# host, so passwords containing "@" (percent-encoded or not) are masked whole.
_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/@?#]*:)[^/?#]*@")


def mask_uri(uri: str) -> str:
    """``amqp://user:secret@host/vhost`` -> ``amqp://user:***@host/vhost``."""
    return _PASSWORD.sub(r"\1***@", uri)
