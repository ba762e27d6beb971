"""Drives a running fintoc-sandbox with the official Python SDK (`fintoc`, pinned in scripts/requirements.txt).

Usage: SANDBOX_SECRET_KEY=sk_test_… python3 sdk_check.py BASE_URL

(The key comes from the environment, never the arguments, where ps would show it.)

Only the SDK's base URL is changed. Exits 0 and prints "SDK OK" when every check passes;
otherwise prints what failed and exits 1 (2 when the `fintoc` module is missing).
"""

import http.server
import importlib.metadata
import json
import os
import queue
import sys
import threading
import time

try:
    import fintoc
    from fintoc import Fintoc
    from fintoc.errors import AuthenticationError, InvalidRequestError
    from fintoc.webhook import WebhookSignature
except ImportError as error:  # pragma: no cover
    print(f"the Python module 'fintoc' is missing ({error}); run scripts/deps, then run this with scripts/python")
    sys.exit(2)

import httpx

BASE, SECRET = sys.argv[1].rstrip("/"), os.environ.get("SANDBOX_SECRET_KEY", "sk_test_sandbox")
received = queue.Queue()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        received.put((body, self.headers.get("Fintoc-Signature")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}")
        sys.exit(1)


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver_url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/fintoc"

    client = Fintoc(SECRET)
    client._client.base_url = BASE  # the only change: the base URL
    checks = 0

    # Webhook endpoints: create (secret shown once), get, list, update, test, delete.
    endpoint = client.webhook_endpoints.create(url=receiver_url, enabled_events=["*"], description="sdk check")
    secret = endpoint.secret
    check(secret.startswith("whsec_"), f"create answers the secret, got {secret!r}")
    fetched = client.webhook_endpoints.get(endpoint.id)
    check(getattr(fetched, "secret", None) is None, "get never shows the secret")
    check(endpoint.id in [e.id for e in client.webhook_endpoints.list()], "list holds the endpoint")
    spare = client.webhook_endpoints.create(url=receiver_url + "/spare", enabled_events=["checkout_session.expired"])
    updated = client.webhook_endpoints.update(spare.id, enabled_events=["payment_intent.succeeded"])
    check(updated.enabled_events == ["payment_intent.succeeded"], "update changes enabled_events")
    client.webhook_endpoints.delete(spare.id)
    try:
        client.webhook_endpoints.get(spare.id)
        check(False, "a deleted endpoint is gone")
    except InvalidRequestError as error:
        check("missing_resource" in str(error), f"missing_resource after delete, got {error}")
    checks += 6

    # v2 customers: create (email lower case, tax id as written), get, list by tax id in another
    # spelling, the 409 for a tax id already taken, and list across cursor pages.
    customer = client.v2.customers.create(
        email="Ana@Example.cl", tax_id={"type": "cl_rut", "value": "22.222.222-2"}, name="Ana Rojas", phone="+56912345678",
        address={"city": "Santiago", "country": "CL"}, metadata={"crm": "1"},
    )
    check(customer.id.startswith("cus_") and customer.object == "customer", f"customer create, got {customer.id!r}")
    check(customer.email == "ana@example.cl" and customer.tax_id.value == "22.222.222-2", "customer email lower case, tax id as written")
    check(customer.address.country == "cl" and customer.mode == "test", "customer address and mode")
    check(client.v2.customers.get(customer.id).name == "Ana Rojas", "customer get")
    check([c.id for c in client.v2.customers.list(tax_id="22222222-2")] == [customer.id], "customer list by tax_id")
    check([c.id for c in client.v2.customers.list(tax_id="22.222.222-2", tax_id_type="mx_rfc")] == [], "tax_id_type filters")
    try:
        client.v2.customers.create(tax_id={"type": "cl_rut", "value": "222222222"})
        check(False, "a taken tax id is refused")
    except InvalidRequestError as error:
        check("customer_already_exists" in str(error), f"customer_already_exists, got {error}")
    more = [client.v2.customers.create(email=f"page{i}@example.cl").id for i in range(4)]
    listed = [c.id for c in client.v2.customers.list(limit=2)]
    check(listed[:5] == list(reversed(more)) + [customer.id], f"customer list follows the cursor Link, newest first, got {listed}")
    check(len(listed) == len(set(listed)), "each customer once")
    checks += 8

    # v2 checkout sessions: create (a new customer, then the same one reused by id), get, list
    # across pages, expire. customer_data with a tax id a customer has is a 409.
    first = client.v2.checkout_sessions.create(
        amount=350000, currency="clp", success_url="https://merchant.example/success", cancel_url="https://merchant.example/cancel",
        customer_data={"tax_id": {"type": "cl_rut", "value": "11.111.111-1"}, "name": "Felipe Castro", "email": "felipe@example.com"},
        metadata={"order": "sdk-0"},
    )
    felipe = first.customer.id
    check(felipe.startswith("cus_") and first.customer.tax_id.value == "11.111.111-1", "customer_data makes a customer")
    try:
        client.v2.checkout_sessions.create(
            amount=1000, currency="clp", success_url="https://merchant.example/success", cancel_url="https://merchant.example/cancel",
            customer_data={"tax_id": {"type": "cl_rut", "value": "111111111"}},
        )
        check(False, "customer_data with a taken tax id is refused")
    except InvalidRequestError as error:
        check("customer_already_exists" in str(error) and "customer_data.tax_id" in str(error), f"409 for customer_data, got {error}")
    created = [first] + [
        client.v2.checkout_sessions.create(
            amount=350000 + i, currency="clp", success_url="https://merchant.example/success",
            cancel_url="https://merchant.example/cancel", customer=felipe, metadata={"order": f"sdk-{i}"},
        )
        for i in range(1, 3)
    ]
    check(all(s.customer.id == felipe for s in created), "customer reuses the customer")
    checks += 3
    session = created[0]
    check(session.id.startswith("cs_") and session.status == "created", "v2 create")
    check(session.redirect_url.endswith(f"/checkout/{session.id}"), "v2 redirect_url")
    check(client.v2.checkout_sessions.get(session.id).amount == 350000, "v2 get")
    listed = [s.id for s in client.v2.checkout_sessions.list(per_page=2)]
    check(all(s.id in listed for s in created), f"v2 list follows the cursor Link, got {len(listed)}")
    expired = client.v2.checkout_sessions.expire(created[2].id)
    check(expired.status == "expired", "v2 expire")
    checks += 5

    # v1 checkout sessions: create, get, expire.
    v1 = client.checkout_sessions.create(amount=2476, currency="CLP", customer_email="name@example.com")
    check(v1.session_token.startswith(v1.id + "_sec_"), "v1 session_token")
    check(client.checkout_sessions.get(v1.id).status == "created", "v1 get")
    check(client.checkout_sessions.expire(v1.id).status == "expired", "v1 expire")
    checks += 3

    # Payment intents: create, get, list across pages, expire.
    intents = [client.payment_intents.create(amount=1000 + i, currency="clp", customer_email="name@example.com") for i in range(3)]
    intent = intents[0]
    check(intent.widget_token.startswith(intent.id + "_sec_"), "intent widget_token")
    check(client.payment_intents.get(intent.id).status == "created", "intent get")
    listed = [i.id for i in client.payment_intents.list(per_page=2, lazy=False)]
    check(all(i.id in listed for i in intents), "intent list follows the page Link")
    check(client.payment_intents.expire(intents[1].id).status == "expired", "intent expire")
    checks += 4

    # Errors come back as the SDK's error classes.
    try:
        client.payment_intents.create(amount=1000, currency="usd")
        check(False, "usd is refused")
    except InvalidRequestError as error:
        check("invalid_currency" in str(error), f"invalid_currency, got {error}")
    try:
        bad = Fintoc("sk_test_wrong")
        bad._client.base_url = BASE
        bad.payment_intents.get(intent.id)
        check(False, "a wrong key is refused")
    except AuthenticationError as error:
        check("invalid_api_key" in str(error), f"invalid_api_key, got {error}")
    checks += 2

    # Pay the session headlessly; the delivered webhook verifies with the SDK.
    earlier = {v1.id, expired.id} | {i.id for i in intents}
    while not received.empty():
        received.get()
    answer = httpx.post(f"{BASE}/sandbox/complete", headers={"Authorization": SECRET}, json={"id": session.id, "outcome": "succeeded"})
    check(answer.status_code == 200, f"/sandbox/complete answered {answer.status_code}: {answer.text}")
    types = []
    deadline = time.time() + 15
    while len(types) < 2 and time.time() < deadline:
        try:
            body, header = received.get(timeout=0.5)
        except queue.Empty:
            continue
        check(WebhookSignature.verify_header(payload=body.decode("utf-8"), header=header, secret=secret), "verify_header")
        event = json.loads(body)
        # Webhooks of the objects expired above may still be on their way: only this payment counts.
        if event["data"].get("id") in earlier:
            continue
        types.append(event["type"])
    check(types == ["payment_intent.succeeded", "checkout_session.finished"], f"events in order, got {types}")
    paid = client.v2.checkout_sessions.get(session.id)
    check(paid.status == "finished", "session finished")
    pi_id = paid.payment_resource.payment_intent.id
    check(paid.payment_resource.payment_intent.status == "succeeded", "payment_resource.payment_intent succeeded")
    checks += 4

    # Refunds: create, get.
    refund = client.refunds.create(resource_id=pi_id, resource_type="payment_intent", amount=1000)
    check(refund.id.startswith("re_") and refund.amount == 1000, "refund create")
    check(client.refunds.get(refund.id).resource_id == pi_id, "refund get")
    checks += 2

    # The endpoint test call delivers a signed test event.
    client.webhook_endpoints.test(endpoint.id)
    checks += 1

    server.shutdown()
    print(f"SDK OK: {checks} checks with fintoc {importlib.metadata.version('fintoc')}")


if __name__ == "__main__":
    main()
