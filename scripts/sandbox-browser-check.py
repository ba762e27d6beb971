#!/usr/bin/env python3
"""Manual check (not run in CI): a person pays on the sandbox's hosted page, in headless Chromium.

Needs a running sandbox, `chromium` (apt-get install -y chromium) and `websocket-client`
(pip install websocket-client). Drives Chromium over the DevTools protocol through the whole
hosted checkout (bank, wrong password, login, account, confirm, pay, back to success_url) and
the widget opened by widget.js, saving a screenshot of each step in OUT_DIR.

Usage: scripts/sandbox-browser-check.py [SANDBOX_URL] [OUT_DIR]

With GATEWAY_URL and STOREFRONT_KEY set (e.g. against `scripts/up`), the hosted checkout is
started the way a store starts it, through the gateway's POST /v1/checkouts, and the script then
waits for the gateway to report the order paid (Fintoc's webhook reached it).
"""

import base64
import http.server
import json
import subprocess
import sys
import tempfile
import threading
import time
import os
import urllib.request
import uuid

import websocket

SANDBOX = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8090").rstrip("/")
OUT = sys.argv[2] if len(sys.argv) > 2 else "/tmp/sandbox-browser"
KEY = "sk_test_sandbox"
GATEWAY = os.environ.get("GATEWAY_URL", "").rstrip("/")
STOREFRONT_KEY = os.environ.get("STOREFRONT_KEY", "")


def gateway(method, path, body=None):
    headers = {"Authorization": f"Bearer {STOREFRONT_KEY}", "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    request = urllib.request.Request(GATEWAY + path, method=method, data=json.dumps(body).encode() if body else None, headers=headers)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def api(method, path, body=None):
    request = urllib.request.Request(SANDBOX + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": KEY, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


class Merchant(http.server.BaseHTTPRequestHandler):
    """The store: a success page, a cancel page and a page that opens the widget."""
    widget_token = ""

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/widget-demo"):
            html = f"""<!DOCTYPE html><html><head><title>Store</title>
<script src="{SANDBOX}/widget.js"></script></head><body style="font-family:sans-serif">
<h1>Demo store</h1><p id="status">waiting</p><script>
window.onload = () => {{ const widget = Fintoc.create({{ holderType: 'individual', product: 'payments', country: 'cl',
  publicKey: 'pk_test_sandbox', widgetToken: '{Merchant.widget_token}',
  onSuccess: (d) => {{ document.getElementById('status').textContent = 'onSuccess ' + JSON.stringify(d); }},
  onExit: (d) => {{ document.getElementById('status').textContent = 'onExit ' + JSON.stringify(d); }},
  onEvent: (name) => {{ document.getElementById('status').dataset.last = name; }} }}); widget.open(); }};
</script></body></html>"""
        else:
            html = f"<!DOCTYPE html><html><body style='font-family:sans-serif'><h1 id='merchant'>Merchant page</h1><p>{self.path}</p></body></html>"
        body = html.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp()
        self.process = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=9333", "--window-size=1200,900",
             "--disable-web-security", "--disable-site-isolation-trials", f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                targets = json.loads(urllib.request.urlopen("http://127.0.0.1:9333/json").read())
                page = next(t for t in targets if t["type"] == "page")
                break
            except Exception:
                time.sleep(0.1)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"])
        self.next_id = 0
        self.call("Page.enable")

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def js(self, expression):
        return self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True).get("result", {}).get("value")

    def wait(self, expression, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.js(expression):
                return True
            time.sleep(0.1)
        raise SystemExit(f"timed out waiting for {expression}")

    def shot(self, name):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path = f"{OUT}/{name}.png"
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))
        print("screenshot", path, "-", self.js("location.href"))

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait()


def main():
    os.makedirs(OUT, exist_ok=True)
    merchant = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Merchant)
    threading.Thread(target=merchant.serve_forever, daemon=True).start()
    store = f"http://127.0.0.1:{merchant.server_address[1]}"
    order_id = None
    if GATEWAY:
        order_id = f"ord-browser-{uuid.uuid4().hex[:6]}"
        checkout = gateway("POST", "/v1/checkouts", {
            "order_id": order_id, "currency": "CLP", "amount": 34980, "ui": "redirect",
            "line_items": [{"sku": "TEE-BLK-M", "name": "Polera negra M", "quantity": 2, "unit_amount": 12990},
                           {"sku": "MUG-CER-01", "name": "Taza cerámica", "quantity": 1, "unit_amount": 9000}],
            "customer": {"email": "felipe@example.cl", "name": "Felipe Castro"},
            "success_url": store + "/success?session={CHECKOUT_SESSION_ID}", "cancel_url": store + "/cancel"})
        session = {"id": checkout["provider_id"], "redirect_url": checkout["redirect_url"]}
        print("checkout", checkout["id"], "for", order_id, "through the gateway")
    else:
        session = api("POST", "/v2/checkout_sessions", {
            "amount": 350000, "currency": "CLP", "success_url": store + "/success?session={CHECKOUT_SESSION_ID}",
            "cancel_url": store + "/cancel", "line_items": [{"quantity": 1, "price_data": {"currency": "CLP", "unit_amount": 350000, "product_data": {"name": "Annual subscription"}}}]})
    browser = Browser()
    try:
        browser.call("Page.navigate", url=session["redirect_url"])
        browser.wait("document.querySelector('#continue') !== null")
        browser.shot("1-banks")
        browser.js("document.querySelector('input[value=cl_banco_santander]').click(); document.querySelector('#continue').click()")
        browser.wait("document.querySelector('#login') !== null")
        browser.js("document.querySelector('#username').value='41614850-3'; document.querySelector('#password').value='wrong'; document.querySelector('#login').click()")
        browser.wait("document.querySelector('#login-error') !== null")
        browser.shot("2-wrong-password")
        browser.js("document.querySelector('#username').value='41614850-3'; document.querySelector('#password').value='jonsnow'; document.querySelector('#login').click()")
        browser.wait("document.querySelector('#choose-account') !== null")
        browser.shot("3-accounts")
        browser.js("document.querySelector('input[value=\"813990168\"]').click(); document.querySelector('#choose-account').click()")
        browser.wait("document.querySelector('#pay') !== null")
        browser.shot("4-confirm")
        browser.js("document.querySelector('#pay').click()")
        browser.wait("document.querySelector('#merchant') !== null")
        browser.shot("5-back-at-success-url")
        paid = api("GET", f"/v2/checkout_sessions/{session['id']}")
        print("session", paid["status"], "payment", paid["payment_resource"]["payment_intent"]["status"])
        if order_id:
            for _ in range(100):
                order = gateway("GET", f"/v1/orders/{order_id}")
                if order["status"] == "paid":
                    break
                time.sleep(0.1)
            print("gateway order", order_id, order["status"], "events", [event["type"] for event in order["events"]])

        intent = api("POST", "/v1/payment_intents", {"amount": 2476, "currency": "CLP"})
        Merchant.widget_token = intent["widget_token"]
        browser.call("Page.navigate", url=store + "/widget-demo")
        frame = "document.querySelector('#fintoc-sandbox-widget iframe')"
        doc = f"({frame} && {frame}.contentDocument)"
        browser.wait(f"{doc} && {doc}.querySelector('#continue') !== null")
        browser.shot("6-widget-open")
        browser.js(f"{doc}.querySelector('#continue').click()")
        browser.wait(f"{doc} && {doc}.querySelector('#login') !== null")
        browser.js(f"{doc}.querySelector('#username').value='40427672-7'; {doc}.querySelector('#password').value='jonsnow'; {doc}.querySelector('#login').click()")
        browser.wait(f"{doc} && {doc}.querySelector('#choose-account') !== null")
        browser.js(f"{doc}.querySelector('input[value=\"813990168\"]').click(); {doc}.querySelector('#choose-account').click()")
        browser.wait(f"{doc} && {doc}.querySelector('#pay') !== null")
        browser.js(f"{doc}.querySelector('#pay').click()")
        browser.wait(f"{doc} && {doc}.querySelector('#result') !== null")
        browser.shot("7-widget-paid")
        browser.wait("document.querySelector('#status').textContent.startsWith('onSuccess')")
        browser.shot("8-widget-onSuccess")
        print("widget intent", api("GET", f"/v1/payment_intents/{intent['id']}")["status"], "-", browser.js("document.querySelector('#status').textContent"))
    finally:
        browser.close()
        merchant.shutdown()


if __name__ == "__main__":
    main()
