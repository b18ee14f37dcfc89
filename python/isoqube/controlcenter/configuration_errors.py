"""Which field of a configuration an error of the core is about.

The core validates configurations (isoqube.Configuration, Engine.
save_configuration) and its ConfigurationError carries the path of the
field it is about and the problem as data (``field``, ``problem``). The
editor shows each error next to its field; this maps that path onto the
dict that was given, which may be in the seed's shape.
"""

from __future__ import annotations

import re

from isoqube import errors

# normalize() names a step as Configuration.to_dict() writes it: steps[i]
# and its topic. A dict that gave only the seed's topics has them at
# topics[i], the topic being the entry's name.
_STEP_FIELD = re.compile(r"^steps(\[\d+\])(?:\.(topic|name))?$")


def error_field(error: BaseException, config: dict) -> str | None:
    """The path of the field ``error`` is about in ``config`` (the dict that
    was given, in isoqube's shape or the seed's), or None."""
    field = getattr(error, "field", None)
    if not isinstance(error, errors.ConfigurationError) or not field:
        return None
    if "steps" in config or "topics" not in config:
        return field
    if field == "steps":
        return "topics"
    match = _STEP_FIELD.match(field)
    if match is None:
        return field
    return f"topics{match.group(1)}.name"


def problem(error: BaseException) -> str:
    """What is wrong, without the configuration it is about, for showing it
    next to a field of that configuration."""
    return getattr(error, "problem", None) or str(error)
