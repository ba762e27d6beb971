import Fintoc
import Foundation
import Hummingbird
import NIOCore

/// What every step shares: the summary with the recipient, the endings (paid, failed, closed,
/// not found), the test-mode hints and the messages the widget sends its opener.
extension CustomerFlowController {
    // MARK: Endings

    /// After a payment by any method: back to `success_url` (hosted page) or a result in place
    /// (widget, or no URL); a failure offers another attempt, since the session stays open.
    func resultPage(_ surface: Surface, key: String, view: SandboxStore.CheckoutView, completion: SandboxStore.Completion) -> Response {
        let outcome = completion.outcome
        let amount = HTML.escape(HTML.amount(view.amount, currency: view.currency))
        switch outcome {
        case .succeeded, .pending, .requiresAction:
            if surface == .checkout, let success = view.successURL {
                return HTML.redirect(to: Self.substitute(success, id: view.target.id))
            }
            let headline =
                outcome == .succeeded ? "¡Pago exitoso!" : outcome == .pending ? "Pago en proceso" : "Pago pendiente de aprobación"
            let detail =
                outcome == .succeeded
                ? "Tu pago se completó."
                : outcome == .pending
                    ? "Tu pago fue aceptado; su estado final llega en unos momentos."
                    : "Un segundo representante de la empresa debe aprobar esta transferencia en el banco."
            let body = """
                <h1 class="success" id="result">\(headline)</h1>
                <div class="amount">\(amount)</div>
                <p class="muted">Para <b id="recipient">\(HTML.escape(view.merchantName))</b></p>
                <p class="muted">\(detail)</p>
                """
            return HTML.page(
                title: headline, body: body,
                script: finishScript(surface, type: "success", data: ["id": view.target.id, "status": outcome.rawValue]))
        case .failed, .rejected, .expired:
            let body = """
                <h1 id="result">El pago no se pudo completar</h1>
                <div class="error" id="payment-error">\(HTML.escape(Self.failureMessage(outcome: outcome, reason: completion.errorReason)))</div>
                <form method="get" action="\(HTML.escape(base(surface, key)))"><button type="submit" id="retry">Intentar de nuevo</button></form>
                \(backForm(surface, key: key, view: view, id: "back"))
                """
            return HTML.page(
                title: "Pago fallido", body: body, script: eventScript(surface, "on_payment_error", data: ["status": outcome.rawValue]))
        }
    }

    /// Why a payment failed, in the customer's words; an unknown reason gets a general sentence
    /// (Fintoc's list of reasons is open).
    static func failureMessage(outcome: Outcome, reason: String?) -> String {
        switch reason ?? "" {
        case "insufficient_funds": "Fondos insuficientes."
        case "mfa_invalid_authorization": "La transferencia no fue autorizada: la segunda clave fue rechazada."
        case "card_declined": "El banco emisor rechazó la tarjeta."
        case "expired_card": "El banco emisor indica que la tarjeta está vencida."
        case "incorrect_cvc": "El banco emisor indica que el código de seguridad es incorrecto."
        case "authentication_failed": "No se completó la autenticación 3-D Secure."
        case "bank_not_available": "El banco no está disponible en este momento."
        case "amount_limit_reached": "El monto supera el límite de tu cuenta."
        default: outcome == .rejected ? "El pago no fue autorizado." : "El pago fue rechazado."
        }
    }

    func errorPage(_ surface: Surface, key: String, message: String) -> Response {
        let body =
            "<h1 id=\"result\">Algo salió mal</h1><div class=\"error\">\(HTML.escape(message))</div><a href=\"\(HTML.escape(base(surface, key)))\">Volver a empezar</a>"
        return HTML.page(title: "Error", body: body, status: .badRequest)
    }

    func notFound(_ surface: Surface) -> Response {
        let what = surface == .checkout ? "Esta sesión de pago no existe" : "Este token de sesión o de widget no existe"
        let body =
            "<h1 id=\"result\">Enlace no válido</h1><div class=\"error\">\(what) en el sandbox. Revisa el enlace o crea uno nuevo.</div>"
        return HTML.page(
            title: "Enlace no válido", body: body, status: .notFound,
            script: finishScript(surface, type: "exit", data: ["reason": "invalid_token"], delayed: true))
    }

    func closedPage(_ surface: Surface, key: String, view: SandboxStore.CheckoutView, reason: String) -> Response {
        let body = """
            <h1 id="result">No disponible</h1>
            <div class="error">\(HTML.escape(reason))</div>
            \(backForm(surface, key: key, view: view, id: "back"))
            """
        return HTML.page(
            title: "No disponible", body: body, status: .gone,
            script: finishScript(surface, type: "exit", data: ["reason": "unavailable"], delayed: true))
    }

    /// "Volver a <merchant>" (to `cancel_url`) on the hosted page; "Cerrar" in the widget.
    private func backForm(_ surface: Surface, key: String, view: SandboxStore.CheckoutView, id: String) -> String {
        let label = surface == .checkout && view.cancelURL != nil ? "Volver a \(HTML.escape(view.merchantName))" : "Cerrar"
        return
            "<form method=\"post\" action=\"\(HTML.escape(base(surface, key)))/cancel\"><button class=\"secondary\" type=\"submit\" id=\"\(id)\">\(label)</button></form>"
    }

    // MARK: Pieces of a step

    /// The recipient, the amount and the lines, above each step.
    func summary(_ view: SandboxStore.CheckoutView) -> String {
        var lines = ""
        if !view.lineItems.isEmpty {
            lines =
                "<table class=\"lines\">"
                + view.lineItems.map { item in
                    "<tr><td>\(item.quantity) × \(HTML.escape(item.priceData.productData.name))</td><td class=\"r\">\(HTML.escape(Self.lineTotal(item, currency: view.currency)))</td></tr>"
                }.joined() + "</table>"
        }
        return
            "<p class=\"muted\">Para <b id=\"recipient\">\(HTML.escape(view.merchantName))</b></p><div class=\"amount\" id=\"amount\">\(HTML.escape(HTML.amount(view.amount, currency: view.currency)))</div>\(lines)"
    }

    /// A line's total as text; never traps, whatever the stored numbers.
    static func lineTotal(_ item: FintocLineItem, currency: String) -> String {
        let (total, overflow) = item.priceData.unitAmount.multipliedReportingOverflow(by: item.quantity)
        return overflow ? "—" : HTML.amount(total, currency: currency)
    }

    func cancelForm(_ surface: Surface, key: String) -> String {
        "<form method=\"post\" action=\"\(HTML.escape(base(surface, key)))/cancel\"><button class=\"secondary\" type=\"submit\" id=\"cancel\">Cancelar</button></form>"
    }

    func bankHint(_ view: SandboxStore.CheckoutView) -> String {
        view.currency == "MXN"
            ? "<div class=\"hint\">Modo de prueba: cualquier banco, celular <b>5555555555</b> (los valores que fallan están en el README).</div>"
            : "<div class=\"hint\">Modo de prueba: RUT <b>41614850-3</b>, clave <b>jonsnow</b>; la cuenta <b>422159212</b> se completa en unos segundos.</div>"
    }

    // MARK: Messages to the widget's opener

    /// In the widget, tells the opener (widget.js) about a step, for `onEvent`.
    func eventScript(_ surface: Surface, _ name: String, data: [String: String] = [:]) -> String {
        guard surface == .widget else { return "" }
        return
            "<script>window.parent.postMessage({source:'fintoc-sandbox',type:'event',name:\(Self.jsString(name)),data:\(Self.jsObject(data))},'*');</script>"
    }

    /// In the widget, ends the flow: `onSuccess` or `onExit` in the opener.
    func finishScript(_ surface: Surface, type: String, data: [String: String], delayed: Bool = false) -> String {
        guard surface == .widget else { return "" }
        let post = "window.parent.postMessage({source:'fintoc-sandbox',type:\(Self.jsString(type)),data:\(Self.jsObject(data))},'*');"
        return "<script>setTimeout(function(){\(post)}, \(delayed ? 1500 : 800));</script>"
    }

    static func jsString(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
    }

    static func jsObject(_ object: [String: String]) -> String {
        let data = (try? JSONEncoder().encode(object)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
    }
}
