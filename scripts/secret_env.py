"""Secrets for the helper scripts, read the way the services read them."""

import os
import sys


def secret_from_environment(name, default=None):
    """A secret from $NAME, or from the file $NAME_FILE names (one trailing newline trimmed),
    never from an argument: ps shows every process's arguments to every user. Both set is an
    error, as in the services."""
    path = os.environ.get(name + "_FILE")
    value = os.environ.get(name)
    if path and value:
        sys.exit(f"set either {name} or {name}_FILE, not both")
    if path:
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except OSError as error:
            sys.exit(f"{name}_FILE: cannot read {path!r}: {error.strerror}")
        text = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
        if not text.strip():
            sys.exit(f"{name}_FILE: {path!r} is empty")
        return text
    return value or default
