"""``--param NAME=VALUE`` pairs, the way every capability's CLI sets model parameters."""

from __future__ import annotations

import json

from niaga.errors import NiagaError


def parse_params(pairs: list[str], valid: list[str] | tuple[str, ...] | None = None) -> dict:
    """NAME=VALUE pairs; values are read as JSON when they parse (numbers, lists, true), else as text.

    ``valid``: the parameter names the model takes; an unknown name is refused with the list.
    """
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise NiagaError(f"--param {pair!r}: expected NAME=VALUE")
        if valid is not None and name not in valid:
            raise NiagaError(f"--param {name}: unknown parameter; valid: {', '.join(sorted(valid))}")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    return params
