#!/usr/bin/env python3
"""The browser check: customers pay on the sandbox's hosted page and in its widget, in headless
Chromium driven by Playwright, and every page they see is checked and photographed.

What it checks (one line each, then `browser checks: N passed, M failed`; exit 1 on a failure):
  - hosted page: a `ui: redirect` checkout made through the gateway (POST /v1/checkouts) is paid
    in the browser (bank list, a wrong password, login, account, confirmation, back at
    success_url); then the gateway reports the order paid and the worker has written its
    confirmation email (an .eml in --mail-dir); the paid link then shows the closed page;
  - widget: a `ui: payment_intent` checkout through the gateway, opened by the sandbox's
    widget.js in a store page this script serves on loopback, paid in the iframe until the
    store's onSuccess runs; the same gateway and email assertions;
  - recipient account (through the gateway only): a `ui: payment_intent` checkout naming a
    `recipient_account`, paid in the widget; the sandbox's payment intent carries that account
    (the RUT sent bare) and the order is paid;
  - the checkout options, each on a `ui: redirect` checkout through the gateway that carries it:
    a pre-selected bank skips the bank list (also one the sandbox does not list), card only (a
    refused form, then paid: payment_type card), both methods (the choice, then a declined card),
    the business profile's name as the recipient on every step; the ones paid (pre-selected
    bank, card) also get the order and email assertions;
  - the pages that end a flow: an unknown link, a widget opened with a wrong public key;
  - on every sandbox page visited: `lang="es"` and no English word in the visible text.

Without --gateway every checkout is a session or payment intent made directly at the sandbox,
only the sandbox's objects are checked, and the recipient-account check is skipped. Needs
Debian's chromium (`playwright install` is never used: it downloads). Helpers live beside this
script in browser_check/ (support: waits, HTTP, the Spanish rule; store: the merchant's pages).

Usage:
  [STOREFRONT_KEY=KEY] [SANDBOX_SECRET_KEY=KEY] scripts/python scripts/sandbox-browser-check.py
      [--sandbox URL] [--gateway URL --mail-dir DIR] [--out DIR] [--timeout SECONDS]
(keys from the environment or the file $X_FILE names, never arguments: ps would show them)
`scripts/up --browser` starts the stack and runs this against it; scripts/test runs that.
"""

import argparse
import glob
import os
import re
import shutil
import sys
import time
import traceback
import urllib.parse
import uuid

from secret_env import secret_from_environment

from playwright.sync_api import sync_playwright

from browser_check import store as merchant
from browser_check.support import CheckFailed, expect, expect_spanish, http_json, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LINES = [
    {"sku": "TEE-BLK-M", "name": "Polera negra M", "quantity": 1, "unit_amount": 12990},
    {"sku": "MUG-CER-01", "name": "Taza cerámica", "quantity": 1, "unit_amount": 9000},
]

# The account a direct payment goes to, as a storefront names it (a RUT with dots and hyphen).
RECIPIENT_ACCOUNT = {"holder_id": "18.391.713-7", "number": "123456", "type": "checking_account", "institution_id": "cl_banco_de_chile"}


class Check:
    # Screenshots are numbered across the whole run, so the folder lists them in the order taken.
    taken = 0

    def __init__(self, args, page, store_url):
        self.args = args
        self.page = page
        self.store = store_url
        self.sandbox = args.sandbox.rstrip("/")
        self.gateway = (args.gateway or "").rstrip("/")
        self.shots = []
        self.current = ""

    # --- helpers ---

    def shot(self, step):
        Check.taken += 1
        name = f"{Check.taken:02d}-{self.current}-{step}.png"
        path = os.path.join(self.args.out, name)
        self.page.screenshot(path=path, full_page=True)
        self.shots.append(path)

    def text(self, frame, selector):
        return frame.locator(selector).inner_text().strip()

    def sandbox_api(self, method, path, body=None):
        status, answer = http_json(method, self.sandbox + path, body, {"Authorization": self.args.sandbox_key})
        expect(200 <= status < 300, f"sandbox {method} {path} answered {status}: {answer}")
        return answer

    def gateway_api(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.args.storefront_key}"}
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        status, answer = http_json(method, self.gateway + path, body, headers)
        expect(200 <= status < 300, f"gateway {method} {path} answered {status}: {answer}")
        return answer

    def session(self, **options):
        body = {
            "amount": 21990, "currency": "CLP", "success_url": self.store + "/success", "cancel_url": self.store + "/cancel",
            "line_items": [{"quantity": 1, "price_data": {"currency": "CLP", "unit_amount": 21990, "product_data": {"name": "Polera y taza"}}}],
            **options,
        }
        return self.sandbox_api("POST", "/v2/checkout_sessions", body)

    def checkout(self, ui, **options):
        """A checkout through the gateway with these checkout options: (order id, the gateway's
        answer); (None, None) without a gateway. A fresh order id and Idempotency-Key each time."""
        if not self.gateway:
            return None, None
        order_id = f"ord-browser-{self.current}-{uuid.uuid4().hex[:8]}"
        answer = self.gateway_api("POST", "/v1/checkouts", {
            "order_id": order_id, "currency": "CLP", "amount": sum(line["quantity"] * line["unit_amount"] for line in LINES), "ui": ui,
            "line_items": LINES, "customer": {"email": "felipe@example.cl", "name": "Felipe Castro"},
            "success_url": self.store + "/success", "cancel_url": self.store + "/cancel", **options,
        })
        print(f"    checkout {answer['id']} for {order_id} through the gateway{' with ' + ', '.join(options) if options else ''}")
        return order_id, answer

    def hosted(self, **options):
        """A `ui: redirect` checkout with these options, through the gateway when there is one,
        else a session made directly at the sandbox: (order id or None, redirect_url, session id)."""
        order_id, checkout = self.checkout("redirect", **options)
        if checkout:
            return order_id, checkout["redirect_url"], checkout["provider_id"]
        session = self.session(**options)
        return None, session["redirect_url"], session["id"]

    def paid_session(self, session_id):
        """The sandbox's session is finished and its payment succeeded; answers the payment."""
        session = self.sandbox_api("GET", f"/v2/checkout_sessions/{session_id}")
        intent = (session.get("payment_resource") or {}).get("payment_intent") or {}
        expect(session["status"] == "finished" and intent.get("status") == "succeeded", f"session {session['status']}, payment {intent.get('status')}")
        return intent

    def expect_paid_and_emailed(self, order_id):
        """The gateway's order is paid and the worker wrote its confirmation email."""
        wait_until(lambda: self.gateway_api("GET", f"/v1/orders/{order_id}").get("status") == "paid", 30, f"order {order_id} to be paid")
        pattern = os.path.join(self.args.mail_dir, f"*+{glob.escape(order_id)}.order_confirmed*.eml")
        emails = wait_until(lambda: glob.glob(pattern), 30, f"the confirmation email of {order_id} in {self.args.mail_dir}")
        print(f"    order {order_id} paid; email {os.path.basename(emails[0])}")

    def bank_login(self, frame, username="41614850-3", password="jonsnow"):
        frame.fill("#username", username)
        frame.fill("#password", password)
        frame.click("#login")

    def to_success_url(self):
        self.page.wait_for_url(re.compile(re.escape(self.store) + r"/success"))

    # --- the checks ---

    def hosted_page(self):
        order_id, url, session_id = self.hosted()
        self.page.goto(url)
        self.page.wait_for_selector("#continue")
        expect_spanish(self.page, "the bank list")
        self.shot("banks")
        self.page.check("input[value=cl_banco_santander]")
        self.page.click("#continue")
        self.page.wait_for_selector("#login")
        expect_spanish(self.page, "the login")
        self.bank_login(self.page, password="arya")
        self.page.wait_for_selector("#login-error")
        expect_spanish(self.page, "a wrong password")
        self.shot("wrong-password")
        self.bank_login(self.page)
        self.page.wait_for_selector("#choose-account")
        expect_spanish(self.page, "the accounts")
        self.shot("accounts")
        self.page.check("input[value='813990168']")
        self.page.click("#choose-account")
        self.page.wait_for_selector("#pay")
        expect_spanish(self.page, "the confirmation")
        self.shot("confirm")
        self.page.click("#pay")
        self.to_success_url()
        self.shot("back-at-success-url")
        self.paid_session(session_id)
        if order_id:
            self.expect_paid_and_emailed(order_id)
        self.page.goto(url)
        self.page.wait_for_selector("#result")
        expect(self.text(self.page, "#result") == "No disponible", "a paid link shows the closed page")
        expect_spanish(self.page, "the closed page")
        self.shot("paid-link-closed")

    def pay_in_widget(self, token, public_key):
        """Opens the widget in the store's page and pays in it until the store's onSuccess runs."""
        self.page.goto(self.store + "/widget-store?" + urllib.parse.urlencode({"token": token, "public_key": public_key}))
        handle = self.page.wait_for_selector("#fintoc-sandbox-widget iframe")
        frame = handle.content_frame()
        frame.wait_for_selector("#continue")
        expect_spanish(frame, "the widget's bank list")
        self.shot("open")
        frame.click("#continue")
        frame.wait_for_selector("#login")
        expect_spanish(frame, "the widget's login")
        self.bank_login(frame, username="40427672-7")
        frame.wait_for_selector("#choose-account")
        expect_spanish(frame, "the widget's accounts")
        frame.check("input[value='813990168']")
        frame.click("#choose-account")
        frame.wait_for_selector("#pay")
        expect_spanish(frame, "the widget's confirmation")
        self.shot("confirm")
        frame.click("#pay")
        frame.wait_for_selector("#result")
        expect_spanish(frame, "the widget's result")
        expect(self.text(frame, "#result") == "¡Pago exitoso!", f"widget result {self.text(frame, '#result')!r}")
        self.shot("paid")
        self.page.evaluate("window.releaseFinish()")
        self.page.wait_for_function("document.querySelector('#status').textContent.startsWith('onSuccess')")
        self.shot("store-onSuccess")

    def widget(self):
        order_id, checkout = self.checkout("payment_intent")
        if checkout:
            token, public_key, intent_id = checkout["widget_token"], checkout["public_key"], checkout["provider_id"]
        else:
            intent = self.sandbox_api("POST", "/v1/payment_intents", {"amount": 21990, "currency": "CLP", "customer_email": "felipe@example.cl"})
            token, public_key, intent_id = intent["widget_token"], "pk_test_sandbox", intent["id"]
        self.pay_in_widget(token, public_key)
        status = self.sandbox_api("GET", f"/v1/payment_intents/{intent_id}")["status"]
        expect(status == "succeeded", f"payment intent {status}")
        if order_id:
            self.expect_paid_and_emailed(order_id)

    def recipient_account(self):
        """Through the gateway only: a direct payment into the account the checkout names."""
        order_id, checkout = self.checkout("payment_intent", recipient_account=RECIPIENT_ACCOUNT)
        self.pay_in_widget(checkout["widget_token"], checkout["public_key"])
        intent = self.sandbox_api("GET", f"/v1/payment_intents/{checkout['provider_id']}")
        expect(intent["status"] == "succeeded", f"payment intent {intent['status']}")
        expected = {**RECIPIENT_ACCOUNT, "holder_id": "183917137"}  # the gateway sends a RUT bare
        expect(intent.get("recipient_account") == expected, f"paid into {intent.get('recipient_account')}, not {expected}")
        self.expect_paid_and_emailed(order_id)

    def preselected_bank(self):
        for institution, name in [("cl_banco_estado", "BancoEstado"), ("cl_banco_nuevo", "cl_banco_nuevo")]:
            order_id, url, session_id = self.hosted(payment_method_types=["bank_transfer"], payment_method_options={
                "bank_transfer": {"sender_account": {"institution_id": {"value": institution}}}})
            self.page.goto(url)
            self.page.wait_for_selector("#login")
            expect(self.page.locator("input[name=bank][type=radio]").count() == 0, "the bank list is skipped")
            expect(self.text(self.page, "#bank-name") == name, f"the login of {name}, not {self.text(self.page, '#bank-name')!r}")
            expect(self.page.locator("#preselected").is_visible(), "the page says the merchant chose the bank")
            expect_spanish(self.page, f"the login of the pre-selected {institution}")
            self.shot(f"{institution}-login")
            self.bank_login(self.page)
            self.page.wait_for_selector("#choose-account")
            self.page.check("input[value='813990168']")
            self.page.click("#choose-account")
            self.page.wait_for_selector("#pay")
            expect_spanish(self.page, "the confirmation")
            self.shot(f"{institution}-confirm")
            self.page.click("#pay")
            self.to_success_url()
            intent = self.paid_session(session_id)
            expect(intent["sender_account"]["institution_id"] == institution, f"paid from {intent['sender_account']}")
            if order_id:
                self.expect_paid_and_emailed(order_id)

    def fill_card(self, number, expiry="12/40", cvc="123", holder="Felipe Castro"):
        self.page.fill("#card-number", number)
        self.page.fill("#card-expiry", expiry)
        self.page.fill("#card-cvc", cvc)
        self.page.fill("#card-holder", holder)
        self.page.click("#pay-card")

    def card_succeeds(self):
        order_id, url, session_id = self.hosted(payment_method_types=["card"])
        self.page.goto(url)
        self.page.wait_for_selector("#card-number")
        expect(self.page.locator("#continue").count() == 0, "a card-only session shows no bank list")
        expect_spanish(self.page, "the card form")
        self.shot("form")
        self.fill_card("4242 4242 4242 4242", expiry="01/20")
        self.page.wait_for_selector("#card-error")
        expect("vencida" in self.text(self.page, "#card-error"), f"expiry refused: {self.text(self.page, '#card-error')!r}")
        expect_spanish(self.page, "a refused card form")
        self.shot("expired-date-refused")
        self.fill_card("4242 4242 4242 4242")
        self.to_success_url()
        self.shot("back-at-success-url")
        intent = self.paid_session(session_id)
        expect(intent["payment_type"] == "card", f"paid by {intent['payment_type']}")
        if order_id:
            self.expect_paid_and_emailed(order_id)

    def card_declined(self):
        _, url, session_id = self.hosted(payment_method_types=["bank_transfer", "card"])
        self.page.goto(url)
        self.page.wait_for_selector("#method-card")
        expect(self.page.locator("#method-bank_transfer").is_visible(), "both methods offered")
        expect_spanish(self.page, "the choice of method")
        self.shot("choose-method")
        self.page.click("#method-card")
        self.page.wait_for_selector("#card-number")
        self.fill_card("4000 0000 0000 0002")
        self.page.wait_for_selector("#payment-error")
        expect("rechazó" in self.text(self.page, "#payment-error"), f"declined: {self.text(self.page, '#payment-error')!r}")
        expect_spanish(self.page, "a declined card")
        self.shot("declined")
        answer = self.sandbox_api("GET", f"/v2/checkout_sessions/{session_id}")
        intent = answer["payment_resource"]["payment_intent"]
        expect(answer["status"] == "in_progress", f"the session stays open for another try, not {answer['status']}")
        expect((intent["status"], intent["error_reason"], intent["payment_type"]) == ("failed", "card_declined", "card"), f"payment {intent}")

    def business_profile(self):
        name = "Tienda Ñandú SpA"
        _, url, _ = self.hosted(business_profile={"name": name})
        self.page.goto(url)
        self.page.wait_for_selector("#continue")
        expect(self.text(self.page, "#recipient") == name, f"recipient {self.text(self.page, '#recipient')!r} on the bank list")
        expect(f"Para {name}" in self.page.inner_text("body"), "shown as 'Para …'")
        self.shot("banks")
        self.page.click("#continue")
        self.page.wait_for_selector("#login")
        expect(self.text(self.page, "#recipient") == name, "recipient on the login")
        self.bank_login(self.page)
        self.page.wait_for_selector("#choose-account")
        expect(self.text(self.page, "#recipient") == name, "recipient on the accounts")
        self.page.click("#choose-account")
        self.page.wait_for_selector("#pay")
        expect(self.text(self.page, "#confirm-recipient") == name, "recipient on the confirmation")
        expect_spanish(self.page, "the confirmation")
        self.shot("confirm")

    def ending_pages(self):
        self.page.goto(self.sandbox + "/checkout/cs_doesnotexist")
        self.page.wait_for_selector("#result")
        expect(self.text(self.page, "#result") == "Enlace no válido", "an unknown link")
        expect_spanish(self.page, "an unknown link")
        self.shot("unknown-link")
        intent = self.sandbox_api("POST", "/v1/payment_intents", {"amount": 1000, "currency": "CLP"})
        self.page.goto(self.store + "/widget-store?" + urllib.parse.urlencode({"token": intent["widget_token"], "public_key": "pk_test_wrong"}))
        frame = self.page.wait_for_selector("#fintoc-sandbox-widget iframe").content_frame()
        frame.wait_for_selector("#result")
        expect(self.text(frame, "#result") == "Widget no disponible", "a wrong public key")
        expect_spanish(frame, "a wrong public key")
        self.shot("widget-wrong-key")
        self.page.evaluate("window.releaseFinish()")
        self.page.wait_for_function("document.querySelector('#status').textContent.startsWith('onExit')")

    # (name, method, title, needs the gateway): with --gateway every checkout is made through it.
    CHECKS = [
        ("hosted-page", hosted_page, "the hosted page, paid", False),
        ("widget", widget, "the widget, paid", False),
        ("recipient-account", recipient_account, "the widget, paid into the checkout's recipient_account", True),
        ("preselected-bank", preselected_bank, "a pre-selected bank skips the bank list", False),
        ("card", card_succeeds, "card only: the form, a refused date, paid by card", False),
        ("card-declined", card_declined, "both methods: the choice, a declined card", False),
        ("business-profile", business_profile, "the business profile is the recipient", False),
        ("ending-pages", ending_pages, "an unknown link, a wrong public key", False),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sandbox", default=os.environ.get("SANDBOX_URL", "http://127.0.0.1:8090"), help="the sandbox's base URL [$SANDBOX_URL or http://127.0.0.1:8090]")
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_URL"), help="the gateway's base URL [$GATEWAY_URL]; without it, no order or email is checked")
    parser.add_argument("--mail-dir", default=os.environ.get("MAIL_DIR"), help="where the worker writes .eml files [$MAIL_DIR]")
    parser.add_argument("--out", default=os.path.join(ROOT, ".run", "browser-screenshots"), help="folder for the screenshots [.run/browser-screenshots]")
    parser.add_argument("--timeout", type=float, default=15, help="seconds any one browser step may take [15]")
    parser.epilog = ("Secrets come from the environment, never from arguments (ps would show them): $SANDBOX_SECRET_KEY, "
                     "the sandbox's secret key (default sk_test_sandbox), and $STOREFRONT_KEY, a storefront key for the "
                     "gateway; or the file $SANDBOX_SECRET_KEY_FILE / $STOREFRONT_KEY_FILE names.")
    args = parser.parse_args()
    args.sandbox_key = secret_from_environment("SANDBOX_SECRET_KEY", "sk_test_sandbox")
    args.storefront_key = secret_from_environment("STOREFRONT_KEY")
    if args.gateway and not (args.storefront_key and args.mail_dir):
        parser.error("--gateway needs $STOREFRONT_KEY (or $STOREFRONT_KEY_FILE) and --mail-dir")
    chromium = shutil.which("chromium")
    if not chromium:
        print("browser check: no chromium on PATH (scripts/deps installs Debian's)", file=sys.stderr)
        print("browser checks: 0 passed, 1 failed")
        return 1

    os.makedirs(args.out, exist_ok=True)
    for old in glob.glob(os.path.join(args.out, "*.png")):
        os.remove(old)
    store, store_url = merchant.serve(args.sandbox)
    print(f"browser check: sandbox {args.sandbox}, gateway {args.gateway or '(none: payments made at the sandbox)'}, screenshots in {args.out}")

    checks = []
    for name, run, title, needs_gateway in Check.CHECKS:
        if needs_gateway and not args.gateway:
            print(f"  skip  {name}: {title} (needs --gateway)")
        else:
            checks.append((name, run, title))
    passed, failed = 0, 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True)
            try:
                for name, run, title in checks:
                    page = browser.new_page(viewport={"width": 1000, "height": 900}, locale="es-CL")
                    page.set_default_timeout(args.timeout * 1000)
                    check = Check(args, page, store_url)
                    check.current = name
                    started = time.monotonic()
                    try:
                        run(check)
                        passed += 1
                        print(f"  ok    {name}: {title} ({time.monotonic() - started:.1f} s)")
                    except Exception as error:  # noqa: BLE001 (any failure is this check's, the others still run)
                        failed += 1
                        print(f"  FAIL  {name}: {title}: {error}")
                        if not isinstance(error, CheckFailed):
                            traceback.print_exc(limit=3)
                        try:
                            check.shot("FAILED")
                        except Exception:  # noqa: BLE001 (the page may be gone)
                            pass
                    for path in check.shots:
                        print(f"        {os.path.relpath(path, ROOT) if path.startswith(ROOT) else path}")
                    page.close()
            finally:
                browser.close()
    except Exception as error:  # noqa: BLE001 (Playwright or Chromium could not start or went away)
        print(f"browser check: the browser failed: {error}")
        failed = len(checks) - passed
    finally:
        store.shutdown()
    print(f"browser checks: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
