#!/usr/bin/env python3
"""Drives demo orders through every outcome against a running Cobro stack (scripts/up --demo)
and checks the invariants; exits 0 only if every one held.

Each order is made through the gateway's storefront API and paid (or not) through the sandbox's
control endpoint, as a customer would on the hosted page; then the script waits for the
fulfillment-worker's effects and prints one table row per order: outcome, the domain events
the gateway published, the stock after, and the emails written. Standard library only.
"""

import argparse
import glob
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from secret_env import secret_from_environment  # noqa: E402  (scripts/ is not this file's folder)

LINES = {
    "tee": {"sku": "TEE-BLK-M", "name": "Polera negra M", "unit_amount": 12990},
    "mug": {"sku": "MUG-CER-01", "name": "Taza cerámica", "unit_amount": 9000},
    "poster": {"sku": "POSTER-LTD", "name": "Afiche edición limitada", "unit_amount": 25000},
}

# name: (ui, lines {item: quantity}, what happens, expected worker effect, expected email kinds)
SCENARIOS = [
    ("paid", "redirect", {"tee": 2, "mug": 1}, ["succeeded"], "sold", {"order_confirmed"}),
    ("failed", "payment_intent", {"mug": 2}, ["failed"], "released", {"payment_failed"}),
    ("rejected", "widget", {"tee": 1}, ["rejected"], "released", {"payment_failed"}),
    ("pending then paid", "redirect", {"tee": 1, "mug": 1}, ["pending", "succeeded"], "sold", {"payment_awaiting", "order_confirmed"}),
    ("expired", "redirect", {"mug": 1}, ["expire"], "released", set()),
    ("out of stock", "payment_intent", {"poster": 50}, ["succeeded"], "backordered", {"order_backordered"}),
]

EXPECTED_EVENTS = {
    "succeeded": ["payment.succeeded"],
    "failed": ["payment.failed"],
    "rejected": ["payment.failed"],
    "pending": ["payment.pending"],
    "expire": ["checkout.expired"],
}


def request(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(what)


class Demo:
    def __init__(self, args):
        self.args = args
        self.gateway = args.gateway.rstrip("/")
        self.sandbox = args.sandbox.rstrip("/")
        self.run = uuid.uuid4().hex[:6]
        self.failures = []

    def gateway_call(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.args.key}"}
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        return request(method, self.gateway + path, body, headers)

    def sandbox_complete(self, object_id, outcome):
        body = {"id": object_id, "outcome": outcome}
        if outcome in ("failed", "rejected"):
            body["error_reason"] = "insufficient_funds" if outcome == "failed" else "mfa_invalid_authorization"
        status, answer = request("POST", self.sandbox + "/sandbox/complete", body, {"Authorization": self.args.sandbox_key})
        if status != 200:
            raise RuntimeError(f"sandbox refused to complete {object_id} as {outcome}: {status} {answer}")

    def worker_db(self):
        return sqlite3.connect(f"file:{self.args.worker_database}?mode=ro", uri=True, timeout=10)

    def processed(self, order_id):
        with self.worker_db() as db:
            return [row[0] for row in db.execute("SELECT type FROM processed_message WHERE order_id = ? ORDER BY processed_at", (order_id,))]

    def stock(self):
        out = subprocess.run([os.path.join(self.args.bin, "fulfillment-worker"), "inventory", "show", "--json"],
                             capture_output=True, text=True, check=True).stdout
        return {item["sku"]: item for item in json.loads(out)}

    def emails(self, order_id):
        # <storefront>+<order id>.<kind>@<domain>.eml: the Message-ID names the storefront too.
        prefix = f"+{order_id}."
        names = glob.glob(os.path.join(self.args.mail_dir, f"*+{glob.escape(order_id)}.*.eml"))
        return {os.path.basename(name).split(prefix, 1)[1].split("@")[0] for name in names}

    def check(self, condition, message):
        if not condition:
            self.failures.append(message)
        return condition

    def drive(self, name, ui, items, steps, effect, email_kinds):
        order_id = f"demo-{self.run}-{name.replace(' ', '-')}"
        lines = [dict(LINES[item], quantity=quantity) for item, quantity in items.items()]
        amount = sum(line["quantity"] * line["unit_amount"] for line in lines)
        status, checkout = self.gateway_call("POST", "/v1/checkouts", {
            "order_id": order_id, "currency": "CLP", "amount": amount, "ui": ui, "line_items": lines,
            "customer": {"email": f"{name.replace(' ', '.')}@example.cl", "name": "Cliente Demo"},
            "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/cart",
        })
        if status != 201:
            raise RuntimeError(f"{order_id}: checkout answered {status}: {checkout}")
        wait_for(lambda: "checkout.created" in self.processed(order_id), 30, f"{order_id}: checkout.created not processed")
        expected_types = ["checkout.created"]
        for step in steps:
            if step == "expire":
                status, answer = self.gateway_call("POST", f"/v1/checkouts/{checkout['id']}/expire")
                if status != 200:
                    raise RuntimeError(f"{order_id}: expire answered {status}: {answer}")
            else:
                self.sandbox_complete(checkout["provider_id"], step)
            expected_types += EXPECTED_EVENTS[step]
            wanted = EXPECTED_EVENTS[step][-1]
            wait_for(lambda: wanted in self.processed(order_id), 30, f"{order_id}: {wanted} not processed")
        wait_for(lambda: self.emails(order_id) >= email_kinds, 30, f"{order_id}: emails {sorted(email_kinds)} not written")
        time.sleep(0.3)  # room for anything extra (a duplicate would show up now)

        processed = self.processed(order_id)
        _, order = self.gateway_call("GET", f"/v1/orders/{order_id}")
        published = [event["type"] for event in order.get("events", [])]
        self.check(sorted(published) == sorted(expected_types), f"{order_id}: gateway events {published}, expected {expected_types}")
        self.check(all(event.get("published_at") for event in order.get("events", [])), f"{order_id}: events left in the outbox")
        self.check(sorted(processed) == sorted(expected_types), f"{order_id}: worker processed {processed}, expected {expected_types}")
        self.check(processed.count("payment.succeeded") == (1 if "succeeded" in steps else 0), f"{order_id}: payment.succeeded processed {processed.count('payment.succeeded')} times")
        emails = self.emails(order_id)
        self.check(emails == email_kinds, f"{order_id}: emails {sorted(emails)}, expected {sorted(email_kinds)}")
        with self.worker_db() as db:
            holds = db.execute("SELECT COUNT(*) FROM hold WHERE order_id = ?", (order_id,)).fetchone()[0]
            sale = db.execute("SELECT status FROM sale WHERE order_id = ?", (order_id,)).fetchone()
        self.check(holds == 0, f"{order_id}: {holds} holds left")
        if effect == "sold":
            self.check(sale is not None and sale[0] == "confirmed", f"{order_id}: sale {sale}, expected confirmed")
        elif effect == "backordered":
            self.check(sale is not None and sale[0] == "backordered", f"{order_id}: sale {sale}, expected backordered")
        else:
            self.check(sale is None, f"{order_id}: sold although the payment did not succeed")
        return order_id, items, effect, published, emails

    def main(self):
        before = self.stock()
        for sku in ("TEE-BLK-M", "MUG-CER-01", "POSTER-LTD"):
            if sku not in before:
                print(f"demo: {sku} is not in the inventory; load scripts/demo/inventory.csv", file=sys.stderr)
                return 1
        rows = []
        for scenario in SCENARIOS:
            try:
                rows.append(self.drive(*scenario))
            except (RuntimeError, TimeoutError) as error:
                self.failures.append(str(error))
                rows.append((f"demo-{self.run}-{scenario[0].replace(' ', '-')}", scenario[2], "did not finish", [], set()))
        after = self.stock()

        sold = {}
        for _, items, effect, _, _ in rows:
            if effect == "sold":
                for item, quantity in items.items():
                    sold[LINES[item]["sku"]] = sold.get(LINES[item]["sku"], 0) + quantity
        for sku, level in after.items():
            self.check(level["on_hand"] >= 0 and level["available"] >= 0, f"{sku}: stock below zero {level}")
            if sku in before:
                self.check(before[sku]["on_hand"] - level["on_hand"] == sold.get(sku, 0),
                           f"{sku}: on hand went {before[sku]['on_hand']} -> {level['on_hand']}, sold {sold.get(sku, 0)}")
        outbox = json.loads(subprocess.run([os.path.join(self.args.bin, "payments-gateway"), "outbox", "status", "--json"],
                                           capture_output=True, text=True, check=True).stdout)
        self.check(outbox["depth"] == 0, f"gateway outbox still holds {outbox['depth']} events")
        parked = json.loads(subprocess.run([os.path.join(self.args.bin, "fulfillment-worker"), "dlq", "list", "--json"],
                                           capture_output=True, text=True, check=True).stdout)
        self.check(len(parked) == 0, f"{len(parked)} messages parked in the dead-letter queue")

        header = f"{'ORDER':32} {'OUTCOME':12} {'EVENTS':34} {'STOCK AT THE END (on hand/available)':44} EMAIL"
        print(header)
        print("-" * len(header))
        for order_id, items, effect, published, emails in rows:
            stock = ", ".join(f"{LINES[item]['sku']} {after[LINES[item]['sku']]['on_hand']}/{after[LINES[item]['sku']]['available']}" for item in items)
            events = " ".join(event.split(".", 1)[1] if event != "checkout.created" else "created" for event in published)
            print(f"{order_id:32} {effect:12} {events:34} {stock:44} {', '.join(sorted(emails)) or '-'}")
        print()
        if self.failures:
            print(f"demo: {len(self.failures)} invariant(s) broken:")
            for failure in self.failures:
                print(f"  - {failure}")
            return 1
        print("demo: every invariant held: one payment.succeeded per paid order, stock taken once and never below zero, "
              "holds released, one email per order and kind, outbox empty, nothing parked")
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--sandbox", required=True)
    parser.add_argument("--bin", required=True, help="folder of the built executables")
    parser.add_argument("--mail-dir", required=True)
    parser.add_argument("--worker-database", required=True)
    parser.epilog = ("Secrets come from the environment, never from arguments (ps would show them): $STOREFRONT_KEY, "
                     "the storefront key (required), and $SANDBOX_SECRET_KEY (default sk_test_sandbox); "
                     "or the file $STOREFRONT_KEY_FILE / $SANDBOX_SECRET_KEY_FILE names.")
    args = parser.parse_args()
    args.key = secret_from_environment("STOREFRONT_KEY")
    if not args.key:
        parser.error("set STOREFRONT_KEY (or STOREFRONT_KEY_FILE) to the storefront key")
    args.sandbox_key = secret_from_environment("SANDBOX_SECRET_KEY", "sk_test_sandbox")
    sys.exit(Demo(args).main())


if __name__ == "__main__":
    main()
