import Hummingbird
import NIOCore

/// `GET /widget.js`, the stand-in for Fintoc's widget script, and `GET /widget`, the page it
/// opens in an iframe for a `session_token` (v1 session) or a `widget_token` (payment intent).
struct WidgetController: Sendable {
    let store: SandboxStore
    let configuration: SandboxConfiguration

    func addRoutes(to router: Router<SandboxContext>) {
        router.get("widget.js") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/javascript; charset=utf-8"
            headers[.cacheControl] = "no-store"
            return Response(
                status: .ok, headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: WidgetScript.source(baseURL: configuration.publicURL))))
        }
        router.get("widget") { request, _ in
            let query = request.uri.queryParameters
            let publicKey = query["public_key"].map(String.init) ?? ""
            guard publicKey == configuration.publicKey else {
                let reason =
                    publicKey.hasPrefix("sk_")
                    ? "Una clave secreta nunca debe llegar al navegador: abre el widget con tu clave pública (pk_...)."
                    : "Clave pública desconocida. Usa la clave pública del sandbox (SANDBOX_PUBLIC_KEY)."
                return HTML.page(
                    title: "Clave no válida",
                    body: "<h1 id=\"result\">Widget no disponible</h1><div class=\"error\">\(HTML.escape(reason))</div>",
                    status: .unauthorized, script: Self.exitScript("invalid_public_key"))
            }
            guard let token = (query["session_token"] ?? query["widget_token"]).map(String.init), SandboxID.isWellFormed(token) else {
                return HTML.page(
                    title: "Falta el token",
                    body:
                        "<h1 id=\"result\">Widget no disponible</h1><div class=\"error\">Fintoc.create necesita un sessionToken o un widgetToken.</div>",
                    status: .badRequest, script: Self.exitScript("missing_token"))
            }
            return HTML.redirect(to: "/widget/\(token)")
        }
    }

    static func exitScript(_ reason: String) -> String {
        "<script>setTimeout(function(){window.parent.postMessage({source:'fintoc-sandbox',type:'exit',data:{reason:\(CustomerFlowController.jsString(reason))}},'*');},1500);</script>"
    }
}

/// The widget script: `Fintoc.create({publicKey, sessionToken | widgetToken, onSuccess, onExit,
/// onEvent, holderType, product, country}).open()` opens the sandbox's widget page over the
/// page in an iframe and relays its messages to the callbacks.
enum WidgetScript {
    static func source(baseURL: String) -> String {
        """
        /* Fintoc sandbox widget: test mode only. */
        (function () {
          'use strict';
          var current = document.currentScript;
          var base = current && current.src ? new URL(current.src).origin : \(CustomerFlowController.jsString(baseURL));
          function create(options) {
            options = options || {};
            var overlay = null, listener = null;
            function emit(name, data) { if (typeof options.onEvent === 'function') { options.onEvent(name, data || {}); } }
            function close() {
              if (listener) { window.removeEventListener('message', listener); listener = null; }
              if (overlay && overlay.parentNode) { overlay.parentNode.removeChild(overlay); }
              overlay = null;
            }
            function open() {
              if (overlay) { return; }
              var params = new URLSearchParams();
              params.set('public_key', options.publicKey || '');
              if (options.sessionToken) { params.set('session_token', options.sessionToken); }
              if (options.widgetToken) { params.set('widget_token', options.widgetToken); }
              params.set('holder_type', options.holderType || 'individual');
              params.set('product', options.product || 'payments');
              if (options.country) { params.set('country', options.country); }
              overlay = document.createElement('div');
              overlay.id = 'fintoc-sandbox-widget';
              overlay.style.cssText = 'position:fixed;inset:0;z-index:2147483647;background:rgba(15,20,35,.55);display:flex;align-items:center;justify-content:center;';
              var frame = document.createElement('iframe');
              frame.src = base + '/widget?' + params.toString();
              frame.title = 'Fintoc';
              frame.style.cssText = 'width:480px;max-width:100%;height:680px;max-height:100%;border:0;border-radius:12px;background:#fff;';
              overlay.appendChild(frame);
              listener = function (event) {
                if (event.origin !== base) { return; }
                var message = event.data;
                if (!message || message.source !== 'fintoc-sandbox') { return; }
                if (message.type === 'event') { emit(message.name, message.data); }
                else if (message.type === 'success') { close(); emit('on_success', message.data); if (typeof options.onSuccess === 'function') { options.onSuccess(message.data || {}); } }
                else if (message.type === 'exit') { close(); emit('on_exit', message.data); if (typeof options.onExit === 'function') { options.onExit(message.data || {}); } }
              };
              window.addEventListener('message', listener);
              document.body.appendChild(overlay);
              emit('opened', {});
            }
            return { open: open, close: close, destroy: close };
          }
          window.Fintoc = { create: create };
        })();
        """
    }
}
