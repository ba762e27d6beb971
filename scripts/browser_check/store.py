"""The merchant the customer comes from and returns to, served on loopback for the browser."""

import http.server
import json
import threading
import urllib.parse


class Store(http.server.BaseHTTPRequestHandler):
    """The merchant: success and cancel pages, and a page that opens the widget (its token and
    key in the query), which writes the widget's callbacks into #status."""

    sandbox = ""

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/widget-store":
            options = json.dumps({
                "holderType": "individual", "product": "payments", "country": "cl", "publicKey": query.get("public_key", ""),
                query.get("token_kind", "widgetToken"): query.get("token", ""),
            })
            html = f"""<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><title>Tienda</title>
<script src="{Store.sandbox}/widget.js"></script></head><body style="font-family:sans-serif">
<h1>Tienda de prueba</h1><p id="status">esperando</p><script>
// The widget closes its iframe as soon as the flow ends (success or exit). Registered before
// widget.js's own listener, this one holds those last messages until the check has read and
// photographed the page that ended the flow, then releases them to widget.js unchanged.
var held = [];
window.holdFinish = true;
window.addEventListener('message', function (event) {{
  var message = event.data;
  if (window.holdFinish && message && message.source === 'fintoc-sandbox' && (message.type === 'success' || message.type === 'exit')) {{
    event.stopImmediatePropagation();
    held.push({{data: message, origin: event.origin}});
  }}
}});
window.releaseFinish = function () {{
  window.holdFinish = false;
  held.splice(0).forEach(function (item) {{ window.dispatchEvent(new MessageEvent('message', item)); }});
}};
window.onload = function () {{
  var options = {options};
  options.onSuccess = function (d) {{ document.getElementById('status').textContent = 'onSuccess ' + JSON.stringify(d); }};
  options.onExit = function (d) {{ document.getElementById('status').textContent = 'onExit ' + JSON.stringify(d); }};
  options.onEvent = function (name) {{ document.getElementById('status').dataset.last = name; }};
  Fintoc.create(options).open();
}};
</script></body></html>"""
        else:
            html = f"<!DOCTYPE html><html lang='es'><head><meta charset='utf-8'><title>Tienda</title></head><body style='font-family:sans-serif'><h1 id='merchant'>Tienda de prueba</h1><p>{url.path}</p></body></html>"
        body = html.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser moved on (a page closed mid-answer): nothing to tell it

    def log_message(self, *args):
        pass


def serve(sandbox):
    """Starts the store in a thread; answers (server, its base URL). `server.shutdown()` stops it."""
    Store.sandbox = sandbox.rstrip("/")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Store)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
