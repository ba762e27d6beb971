import Fintoc
import Foundation
import Hummingbird
import NIOCore

/// The customer's side of a payment, as plain HTML forms: pick a bank, log in with the test
/// credentials, pick an account, confirm. The same steps serve the hosted checkout page
/// (`/checkout/{cs_id}`, the v2 `redirect_url`) and the widget (`/widget/{token}`, opened in an
/// iframe by `widget.js`); only the endings differ (redirect vs a message to the opener).
struct CustomerFlowController: Sendable {
    let store: SandboxStore
    let configuration: SandboxConfiguration

    enum Surface: String, Sendable {
        case checkout, widget
    }

    func addRoutes(to router: Router<SandboxContext>) {
        for surface in [Surface.checkout, .widget] {
            let group = router.group(RouterPath(surface.rawValue))
            group.get(":key") { request, context in try await self.banks(surface, request, context) }
            group.get(":key/login") { request, context in try await self.loginForm(surface, request, context) }
            group.post(":key/login") { request, context in try await self.login(surface, request, context) }
            group.post(":key/confirm") { request, context in try await self.confirm(surface, request, context) }
            group.post(":key/pay") { request, context in try await self.pay(surface, request, context) }
            group.post(":key/cancel") { request, context in try await self.cancel(surface, request, context) }
        }
    }

    // MARK: Steps

    private func banks(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        let (key, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        if let closed = view.closedReason { return closedPage(surface, key: key, view: view, reason: closed) }
        let base = "/\(surface.rawValue)/\(HTML.escape(key))"
        let options = TestValues.banks(forCurrency: view.currency).enumerated().map { index, bank in
            "<label class=\"option\"><input type=\"radio\" name=\"bank\" value=\"\(bank.id)\"\(index == 0 ? " checked" : "")> \(HTML.escape(bank.name))</label>"
        }.joined(separator: "\n")
        let body = """
            \(summary(view))
            <h1>Elige tu banco</h1>
            <p class="muted">Pay by bank transfer from your account.</p>
            <form method="get" action="\(base)/login">
            \(options)
            <button type="submit" id="continue">Continuar</button>
            </form>
            \(cancelForm(surface, key: key))
            \(hint(view))
            """
        return HTML.page(title: "Elige tu banco", body: body, script: eventScript(surface, "on_bank_list"))
    }

    private func loginForm(_ surface: Surface, _ request: Request, _ context: SandboxContext, error: String? = nil, bank: String? = nil, username: String = "") async throws -> Response {
        let (key, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        if let closed = view.closedReason { return closedPage(surface, key: key, view: view, reason: closed) }
        let bankID = bank ?? request.uri.queryParameters["bank"].map(String.init) ?? ""
        guard let bankInfo = TestValues.banks(forCurrency: view.currency).first(where: { $0.id == bankID }) else {
            return HTML.redirect(to: "/\(surface.rawValue)/\(key)")
        }
        let isMexico = view.currency == "MXN"
        let fields =
            isMexico
            ? """
            <label class="field" for="username">Número de celular</label>
            <input type="tel" id="username" name="username" value="\(HTML.escape(username))" autocomplete="off" placeholder="5555555555">
            <input type="hidden" name="password" value="">
            """
            : """
            <label class="field" for="username">RUT</label>
            <input type="text" id="username" name="username" value="\(HTML.escape(username))" autocomplete="off" placeholder="41614850-3">
            <label class="field" for="password">Clave</label>
            <input type="password" id="password" name="password" autocomplete="off">
            """
        let body = """
            \(summary(view))
            <h1>\(HTML.escape(bankInfo.name))</h1>
            <p class="muted">Log in to your bank to authorize the transfer.</p>
            \(error.map { "<div class=\"error\" id=\"login-error\">\(HTML.escape($0))</div>" } ?? "")
            <form method="post" action="/\(surface.rawValue)/\(HTML.escape(key))/login">
            <input type="hidden" name="bank" value="\(HTML.escape(bankInfo.id))">
            \(fields)
            <button type="submit" id="login">Ingresar</button>
            </form>
            \(cancelForm(surface, key: key))
            \(hint(view))
            """
        return HTML.page(title: bankInfo.name, body: body, script: eventScript(surface, error == nil ? "on_login" : "on_login_error"))
    }

    private func login(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        var request = request
        let form = HTML.formFields(try await request.collectBody(upTo: 64 * 1024))
        let (key, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        let bank = form["bank"] ?? ""
        let username = form["username"] ?? ""
        switch await store.login(target: view.target, currency: view.currency, bank: bank, username: username, password: form["password"] ?? "") {
        case .failure(let failure):
            return try await loginForm(surface, request, context, error: failure.message, bank: bank, username: username)
        case .success(let ticket):
            if view.currency == "MXN" {
                return confirmPage(surface, key: key, view: view, ticket: ticket, bank: bank, account: username.filter(\.isNumber), label: "Celular \(username)")
            }
            return accountsPage(surface, key: key, view: view, ticket: ticket)
        }
    }

    private func accountsPage(_ surface: Surface, key: String, view: SandboxStore.CheckoutView, ticket: String) -> Response {
        let options = TestValues.chileAccounts.enumerated().map { index, account in
            "<label class=\"option\"><input type=\"radio\" name=\"account\" value=\"\(account.number)\"\(index == 0 ? " checked" : "")> <span><b>\(account.number)</b><br><span class=\"muted\">\(HTML.escape(account.label))</span></span></label>"
        }.joined(separator: "\n")
        let body = """
            \(summary(view))
            <h1>Elige tu cuenta</h1>
            <p class="muted">Which account should the money come from?</p>
            <form method="post" action="/\(surface.rawValue)/\(HTML.escape(key))/confirm">
            <input type="hidden" name="ticket" value="\(ticket)">
            \(options)
            <button type="submit" id="choose-account">Continuar</button>
            </form>
            \(cancelForm(surface, key: key))
            """
        return HTML.page(title: "Elige tu cuenta", body: body, script: eventScript(surface, "on_account_list"))
    }

    private func confirm(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        var request = request
        let form = HTML.formFields(try await request.collectBody(upTo: 64 * 1024))
        let (key, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        guard let ticketID = form["ticket"], let ticket = await store.ticket(ticketID, for: view.target) else {
            return HTML.redirect(to: "/\(surface.rawValue)/\(key)")
        }
        let account = form["account"] ?? ""
        guard let test = TestValues.chileAccounts.first(where: { $0.number == account }) else {
            return accountsPage(surface, key: key, view: view, ticket: ticketID)
        }
        return confirmPage(surface, key: key, view: view, ticket: ticketID, bank: ticket.bank, account: account, label: "Cuenta \(test.number)")
    }

    private func confirmPage(_ surface: Surface, key: String, view: SandboxStore.CheckoutView, ticket: String, bank: String, account: String, label: String) -> Response {
        let bankName = TestValues.banks(forCurrency: view.currency).first { $0.id == bank }?.name ?? bank
        let body = """
            <h1>Confirma tu pago</h1>
            <div class="amount" id="amount">\(HTML.escape(HTML.amount(view.amount, currency: view.currency)))</div>
            <table class="lines">
            <tr><td>Banco</td><td class="r">\(HTML.escape(bankName))</td></tr>
            <tr><td>Desde</td><td class="r">\(HTML.escape(label))</td></tr>
            <tr><td>Para</td><td class="r">\(HTML.escape(view.merchantName))</td></tr>
            </table>
            <form method="post" action="/\(surface.rawValue)/\(HTML.escape(key))/pay">
            <input type="hidden" name="ticket" value="\(ticket)">
            <input type="hidden" name="account" value="\(HTML.escape(account))">
            <button type="submit" id="pay">Pagar</button>
            </form>
            \(cancelForm(surface, key: key))
            """
        return HTML.page(title: "Confirma tu pago", body: body, script: eventScript(surface, "on_confirm"))
    }

    private func pay(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        var request = request
        let form = HTML.formFields(try await request.collectBody(upTo: 64 * 1024))
        let (key, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        let outcome: Outcome
        do {
            outcome = try await store.pay(ticket: form["ticket"] ?? "", target: view.target, account: form["account"] ?? "")
        } catch {
            return HTML.page(title: "Error", body: "<h1>Something went wrong</h1><div class=\"error\">\(HTML.escape(error.message))</div><a href=\"/\(surface.rawValue)/\(HTML.escape(key))\">Start again</a>", status: .badRequest)
        }
        let objectID = view.target.id
        switch outcome {
        case .succeeded, .pending, .requiresAction:
            if surface == .checkout, let success = view.successURL {
                return HTML.redirect(to: Self.substitute(success, id: objectID))
            }
            let headline = outcome == .succeeded ? "¡Pago exitoso!" : outcome == .pending ? "Pago en proceso" : "Pago pendiente de aprobación"
            let detail =
                outcome == .succeeded
                ? "Your payment was completed."
                : outcome == .pending
                    ? "The bank accepted the transfer; its final status arrives shortly."
                    : "A second representative must approve this transfer in the bank."
            let body = "<h1 class=\"success\" id=\"result\">\(headline)</h1><div class=\"amount\">\(HTML.escape(HTML.amount(view.amount, currency: view.currency)))</div><p class=\"muted\">\(detail)</p>"
            return HTML.page(title: headline, body: body, script: finishScript(surface, type: "success", data: ["id": objectID, "status": outcome.rawValue]))
        case .failed, .rejected, .expired:
            let message = outcome == .failed ? "The bank rejected the transfer: insufficient funds." : "The transfer was not authorized (MFA rejected)."
            let label = surface == .checkout && view.cancelURL != nil ? "Volver al comercio" : "Cerrar"
            let back = "<form method=\"post\" action=\"/\(surface.rawValue)/\(HTML.escape(key))/cancel\"><button class=\"secondary\" type=\"submit\" id=\"back\">\(label)</button></form>"
            let body = """
                <h1 id="result">El pago no se pudo completar</h1>
                <div class="error">\(HTML.escape(message))</div>
                <form method="get" action="/\(surface.rawValue)/\(HTML.escape(key))"><button type="submit" id="retry">Intentar de nuevo</button></form>
                \(back)
                """
            return HTML.page(title: "Pago fallido", body: body, script: eventScript(surface, "on_payment_error", data: ["status": outcome.rawValue]))
        }
    }

    private func cancel(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        let (_, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        if surface == .checkout, let cancel = view.cancelURL {
            return HTML.redirect(to: Self.substitute(cancel, id: view.target.id))
        }
        return HTML.page(title: "Cancelado", body: "<h1 id=\"result\">Pago cancelado</h1>", script: finishScript(surface, type: "exit", data: ["reason": "canceled"]))
    }

    // MARK: Pieces

    private func resolve(_ surface: Surface, _ context: SandboxContext) async throws -> (String, SandboxStore.CheckoutView?) {
        let key = try context.parameters.require("key")
        guard SandboxID.isWellFormed(key) else { return ("", nil) }
        switch surface {
        case .checkout: return (key, await store.checkoutView(sessionID: key))
        case .widget: return (key, await store.widgetView(token: key))
        }
    }

    /// `{CHECKOUT_SESSION_ID}` in a success or cancel URL becomes the session's id.
    static func substitute(_ url: String, id: String) -> String {
        url.replacingOccurrences(of: "{CHECKOUT_SESSION_ID}", with: id)
    }

    private func notFound(_ surface: Surface) -> Response {
        let what = surface == .checkout ? "checkout session" : "session or widget token"
        return HTML.page(title: "Not found", body: "<h1 id=\"result\">Link not valid</h1><div class=\"error\">This \(what) does not exist in the sandbox. Check the link, or create a new one.</div>", status: .notFound, script: finishScript(surface, type: "exit", data: ["reason": "invalid_token"], delayed: true))
    }

    private func closedPage(_ surface: Surface, key: String, view: SandboxStore.CheckoutView, reason: String) -> Response {
        var links = ""
        if surface == .checkout, view.cancelURL != nil {
            links = "<form method=\"post\" action=\"/checkout/\(HTML.escape(key))/cancel\"><button class=\"secondary\" type=\"submit\">Volver al comercio</button></form>"
        }
        return HTML.page(title: "Unavailable", body: "<h1 id=\"result\">No disponible</h1><div class=\"error\">\(HTML.escape(reason))</div>\(links)", status: .gone, script: finishScript(surface, type: "exit", data: ["reason": "unavailable"], delayed: true))
    }

    /// A line's total as text; never traps, whatever the stored numbers.
    static func lineTotal(_ item: FintocLineItem, currency: String) -> String {
        let (total, overflow) = item.priceData.unitAmount.multipliedReportingOverflow(by: item.quantity)
        return overflow ? "—" : HTML.amount(total, currency: currency)
    }

    private func summary(_ view: SandboxStore.CheckoutView) -> String {
        var lines = ""
        if !view.lineItems.isEmpty {
            lines = "<table class=\"lines\">" + view.lineItems.map { item in
                "<tr><td>\(item.quantity) × \(HTML.escape(item.priceData.productData.name))</td><td class=\"r\">\(HTML.escape(Self.lineTotal(item, currency: view.currency)))</td></tr>"
            }.joined() + "</table>"
        }
        return "<p class=\"muted\">Pagar a \(HTML.escape(view.merchantName))</p><div class=\"amount\" id=\"amount\">\(HTML.escape(HTML.amount(view.amount, currency: view.currency)))</div>\(lines)"
    }

    private func cancelForm(_ surface: Surface, key: String) -> String {
        "<form method=\"post\" action=\"/\(surface.rawValue)/\(HTML.escape(key))/cancel\"><button class=\"secondary\" type=\"submit\" id=\"cancel\">Cancelar</button></form>"
    }

    private func hint(_ view: SandboxStore.CheckoutView) -> String {
        view.currency == "MXN"
            ? "<div class=\"hint\">Test mode: any bank, phone <b>5555555555</b> (see the README for failure values).</div>"
            : "<div class=\"hint\">Test mode: RUT <b>41614850-3</b>, password <b>jonsnow</b>; account <b>422159212</b> completes after a few seconds.</div>"
    }

    /// In the widget, tells the opener (widget.js) about a step, for `onEvent`.
    private func eventScript(_ surface: Surface, _ name: String, data: [String: String] = [:]) -> String {
        guard surface == .widget else { return "" }
        return "<script>window.parent.postMessage({source:'fintoc-sandbox',type:'event',name:\(Self.jsString(name)),data:\(Self.jsObject(data))},'*');</script>"
    }

    /// In the widget, ends the flow: `onSuccess` or `onExit` in the opener.
    private func finishScript(_ surface: Surface, type: String, data: [String: String], delayed: Bool = false) -> String {
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
