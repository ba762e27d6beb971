"""Schemathesis hooks for scripts/check-api (loaded through SCHEMATHESIS_HOOKS).

Every POST gets a fresh, valid Idempotency-Key. Schemathesis draws the header from its schema, so
two generated requests can share a key (shrinking and the coverage phase repeat values), and the
gateway then rightly answers 409 idempotency_key_reused or replays the first answer: noise that
hides what the run is there to find. A key that breaks the schema (the negative tests' point) is
left alone, so the gateway's 400 for a malformed or missing key is still tested.

A schema-valid checkout body is made valid for the gateway too where JSON Schema cannot say what
valid is: `amount` must equal the sum of the lines, a Chilean RUT must carry its check digit, and
the checkout options must fit the ui (hosted-page options for redirect, a recipient account for
payment_intent) and the currency (a bank and an account of its country).
Without this nearly every generated checkout is a 400, the path that reaches Fintoc goes untested,
and the positive_data_acceptance check fails on rules the schema states only in prose.
"""

import hashlib
import hmac
import json
import os
import re
import time
import uuid

import schemathesis

MAX_AMOUNT = 10**12  # the schema's maximum for amount
# Valid tax ids of each kind (the RUT with its check digit).
TAX_IDS = {"cl_rut": "11.111.111-1", "mx_rfc": "XAXX010101000"}

VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _header(headers, name):
    """The actual spelling of `name` among `headers`, which may be any case."""
    for key in headers:
        if key.lower() == name.lower():
            return key
    return None


def _body_is_positive(case):
    """Whether the body was drawn to fit its schema. Asked of the body alone: a case negative only
    in its headers counts as valid once schemathesis sees the headers it added are allowed."""
    meta = getattr(case, "meta", None)
    if meta is None:
        return False
    body = next((info for location, info in meta.components.items() if getattr(location, "value", location) == "body"), None)
    return body.mode.is_positive if body is not None else meta.generation.mode.is_positive


def _whole(value):
    """`value` as an int when it is a JSON integer (3 or 3.0), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def _clabe(first17):
    """An 18-digit CLABE: `first17` and its check digit (weights 3, 7, 1)."""
    total = sum((int(digit) * (3, 7, 1)[index % 3]) % 10 for index, digit in enumerate(first17))
    return first17 + str((10 - total % 10) % 10)


# A valid recipient account of each currency, for the fields a generated one gets wrong.
RECIPIENTS = {
    "CLP": {"holder_id": "11.111.111-1", "number": "123456", "type": "checking_account", "institution_id": "cl_banco_de_chile"},
    "MXN": {"holder_id": "XAXX010101000", "number": _clabe("01218000118359719"), "type": "clabe", "institution_id": "mx_bbva"},
}
COUNTRY_PREFIX = {"CLP": "cl_", "MXN": "mx_"}


def _repair_options(body):
    """Checkout options fit the ui and the currency (rules across fields, stated in prose)."""
    ui = body.get("ui")
    if ui != "redirect":
        for name in ("payment_method_types", "payment_method_options", "business_profile"):
            body.pop(name, None)
    if ui != "payment_intent":
        body.pop("recipient_account", None)
    currency = body.get("currency").upper() if isinstance(body.get("currency"), str) else None
    prefix = COUNTRY_PREFIX.get(currency)
    try:
        institution = body["payment_method_options"]["bank_transfer"]["sender_account"]["institution_id"]
    except (KeyError, TypeError):
        institution = None
    if isinstance(institution, dict) and isinstance(institution.get("value"), str) and prefix:
        institution["value"] = prefix + institution["value"][3:]
        methods = body.get("payment_method_types")
        if isinstance(methods, list) and "bank_transfer" not in methods:
            body["payment_method_types"] = ["card", "bank_transfer"]
    account = body.get("recipient_account")
    if isinstance(account, dict) and currency in RECIPIENTS:
        account.update(RECIPIENTS[currency])


def _repair_checkout(body):
    """Makes a schema-valid checkout body satisfy the rules the schema states only in prose."""
    if not isinstance(body, dict):
        return
    _repair_options(body)
    customer = body.get("customer")
    tax_id = customer.get("tax_id") if isinstance(customer, dict) else None
    if isinstance(tax_id, dict) and tax_id.get("type") in TAX_IDS:
        tax_id["value"] = TAX_IDS[tax_id["type"]]
    lines = body.get("line_items")
    if not isinstance(lines, list) or not lines or not all(isinstance(line, dict) for line in lines):
        return
    numbers = [(_whole(line.get("quantity")), _whole(line.get("unit_amount"))) for line in lines]
    if any(quantity is None or unit is None for quantity, unit in numbers):
        return
    for line, (quantity, unit) in zip(lines, numbers):
        line["quantity"] = quantity
        line["unit_amount"] = min(unit, MAX_AMOUNT // (quantity * len(lines)))
    total = sum(line["quantity"] * line["unit_amount"] for line in lines)
    if total < 1:
        lines[0]["unit_amount"] = 1
        total = lines[0]["quantity"]
    body["amount"] = total


def _sign_webhook(case, kwargs, name):
    """Signs a schema-valid webhook as Fintoc would, over the exact bytes sent (kwargs["data"]
    replaces the body schemathesis would serialise itself). Only a case carrying the configured
    placeholder is signed: negative bodies and schemathesis' auth probes go unsigned, and the
    gateway must refuse them with 401 before reading them."""
    secret = os.environ.get("CHECK_API_WEBHOOK_SECRET", "whsec_test_sandbox")
    raw = json.dumps(case.body, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    kwargs["data"] = raw
    case.headers[name] = f"t={timestamp},v1={digest}"


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() != "POST":
        return
    if case.path == "/webhooks/fintoc":
        name = _header(case.headers or {}, "Fintoc-Signature")
        placeholder = name is not None and case.headers[name] == "sign-in-hook"
        if placeholder and _body_is_positive(case) and isinstance(case.body, dict):
            _sign_webhook(case, kwargs, name)
        return
    if case.path == "/v1/checkouts" and _body_is_positive(case):
        _repair_checkout(case.body)
    if case.headers is None:
        return
    name = _header(case.headers, "Idempotency-Key")
    if name is None:
        return
    value = case.headers[name]
    if isinstance(value, str) and VALID_KEY.match(value):
        case.headers[name] = f"st-{uuid.uuid4()}"


@schemathesis.hook
def after_call(context, case, response):
    """Records each answer's status when CHECK_API_STATS names a file, so scripts/check-api can
    show which answers the run reached (a run that never got a 201 tested little)."""
    path = os.environ.get("CHECK_API_STATS")
    # Probes with undeclared methods (all 405) would only crowd the summary.
    if path and case.method.upper() == case.operation.method.upper():
        with open(path, "a", encoding="utf-8") as stats:
            stats.write(f"{case.method.upper()} {case.operation.path} {response.status_code}\n")
