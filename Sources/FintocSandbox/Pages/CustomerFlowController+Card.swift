import Hummingbird
import NIOCore

/// The choice between methods, and the card form, for sessions whose `payment_method_types`
/// hold `card`. The card's checks and outcome live in the store (`SandboxStore+Card.swift`);
/// these are only its pages.
extension CustomerFlowController {
    /// "Elige cómo pagar": one entry per method, in the session's order.
    func methodsPage(_ surface: Surface, key: String, view: SandboxStore.CheckoutView) -> Response {
        let options = view.methods.map { method in
            let (label, detail) =
                switch method {
                case .bankTransfer: ("Transferencia bancaria", "Desde tu cuenta, con la clave de tu banco")
                case .card: ("Tarjeta de crédito o débito", "Visa o Mastercard")
                }
            return
                "<a class=\"option\" id=\"method-\(method.rawValue)\" href=\"\(HTML.escape(base(surface, key)))/\(method.rawValue)\"><span><b>\(label)</b><br><span class=\"muted\">\(detail)</span></span></a>"
        }.joined(separator: "\n")
        let body = """
            \(summary(view))
            <h1>Elige cómo pagar</h1>
            \(options)
            \(cancelForm(surface, key: key))
            """
        return HTML.page(title: "Elige cómo pagar", body: body, script: eventScript(surface, "on_method_list"))
    }

    func cardForm(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        let (key, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        if let closed = view.closedReason { return closedPage(surface, key: key, view: view, reason: closed) }
        guard view.methods.contains(.card) else { return HTML.redirect(to: base(surface, key)) }
        return cardPage(surface, key: key, view: view)
    }

    /// The card form; after a refusal it keeps what was typed, except the CVC.
    func cardPage(
        _ surface: Surface, key: String, view: SandboxStore.CheckoutView, error: String? = nil, entry: SandboxStore.CardEntry? = nil
    ) -> Response {
        let amount = HTML.escape(HTML.amount(view.amount, currency: view.currency))
        let body = """
            \(summary(view))
            <h1>Paga con tarjeta</h1>
            <p class="muted">Tarjeta de crédito o débito.</p>
            \(error.map { "<div class=\"error\" id=\"card-error\">\(HTML.escape($0))</div>" } ?? "")
            <form method="post" action="\(HTML.escape(base(surface, key)))/card" id="card-form">
            <label class="field" for="card-number">Número de tarjeta</label>
            <input type="text" id="card-number" name="number" inputmode="numeric" autocomplete="off" placeholder="4242 4242 4242 4242" value="\(HTML.escape(entry?.number ?? ""))">
            <div class="row">
            <div><label class="field" for="card-expiry">Vencimiento</label>
            <input type="text" id="card-expiry" name="expiry" inputmode="numeric" autocomplete="off" placeholder="MM/AA" value="\(HTML.escape(entry?.expiry ?? ""))"></div>
            <div><label class="field" for="card-cvc">CVC</label>
            <input type="text" id="card-cvc" name="cvc" inputmode="numeric" autocomplete="off" placeholder="123"></div>
            </div>
            <label class="field" for="card-holder">Nombre en la tarjeta</label>
            <input type="text" id="card-holder" name="holder" autocomplete="off" value="\(HTML.escape(entry?.holder ?? ""))">
            <button type="submit" id="pay-card">Pagar \(amount)</button>
            </form>
            \(otherMethodLink(surface, key: key, view: view))
            \(cancelForm(surface, key: key))
            <div class="hint">Modo de prueba: tarjeta <b>4242 4242 4242 4242</b>, cualquier fecha futura y un CVC de 3 dígitos; la <b>4000 0000 0000 0002</b> es rechazada.</div>
            """
        return HTML.page(
            title: "Paga con tarjeta", body: body, script: eventScript(surface, error == nil ? "on_card_form" : "on_card_error"))
    }

    func payByCard(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        var request = request
        let form = HTML.formFields(try await request.collectBody(upTo: 64 * 1024))
        let (key, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        if let closed = view.closedReason { return closedPage(surface, key: key, view: view, reason: closed) }
        guard view.methods.contains(.card) else { return HTML.redirect(to: base(surface, key)) }
        let entry = SandboxStore.CardEntry(
            number: form["number"] ?? "", expiry: form["expiry"] ?? "", cvc: form["cvc"] ?? "", holder: form["holder"] ?? "")
        switch await store.payByCard(target: view.target, entry: entry) {
        case .failure(let refusal):
            return cardPage(surface, key: key, view: view, error: refusal.message, entry: entry)
        case .success(let completion):
            return resultPage(surface, key: key, view: view, completion: completion)
        }
    }

    /// Back to the choice of method, when the session offers more than one.
    func otherMethodLink(_ surface: Surface, key: String, view: SandboxStore.CheckoutView) -> String {
        guard view.methods.count > 1 else { return "" }
        return "<p class=\"muted\"><a id=\"other-method\" href=\"\(HTML.escape(base(surface, key)))\">Elegir otro medio de pago</a></p>"
    }
}
