"""Schemathesis hooks for scripts/check-api (loaded through SCHEMATHESIS_HOOKS).

Every POST gets a fresh, valid Idempotency-Key. Schemathesis draws the header from its schema, so
two generated requests can share a key (shrinking and the coverage phase repeat values), and the
gateway then rightly answers 409 idempotency_key_reused or replays the first answer: noise that
hides what the run is there to find. A key that breaks the schema (the negative tests' point) is
left alone, so the gateway's 400 for a malformed or missing key is still tested.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _header(headers, name):
    """The actual spelling of `name` among `headers`, which may be any case."""
    for key in headers:
        if key.lower() == name.lower():
            return key
    return None


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() != "POST" or case.headers is None:
        return
    name = _header(case.headers, "Idempotency-Key")
    if name is None:
        return
    value = case.headers[name]
    if isinstance(value, str) and VALID_KEY.match(value):
        case.headers[name] = f"st-{uuid.uuid4()}"
