import Fintoc
import Foundation
import Hummingbird
import NIOCore

/// The customer's side of a payment, as plain HTML forms. By bank transfer: pick a bank (unless
/// the merchant pre-selected one), log in with the test credentials, pick an account, confirm.
/// By card (when the session offers `card`): one form. A session offering both lets the customer
/// choose first. The same steps serve the hosted checkout page (`/checkout/{cs_id}`, the v2
/// `redirect_url`) and the widget (`/widget/{token}`, opened in an iframe by `widget.js`); only
/// the endings differ (redirect vs a message to the opener). Every text is Spanish, as Fintoc's
/// pages are.
struct CustomerFlowController: Sendable {
    let store: SandboxStore
    let configuration: SandboxConfiguration

    enum Surface: String, Sendable {
        case checkout, widget
    }

    func addRoutes(to router: Router<SandboxContext>) {
        for surface in [Surface.checkout, .widget] {
            let group = router.group(RouterPath(surface.rawValue))
            group.get(":key") { request, context in try await self.entry(surface, request, context) }
            group.get(":key/bank_transfer") { request, context in try await self.bankStep(surface, request, context) }
            group.get(":key/login") { request, context in try await self.loginForm(surface, request, context) }
            group.post(":key/login") { request, context in try await self.login(surface, request, context) }
            group.post(":key/confirm") { request, context in try await self.confirm(surface, request, context) }
            group.post(":key/pay") { request, context in try await self.pay(surface, request, context) }
            group.get(":key/card") { request, context in try await self.cardForm(surface, request, context) }
            group.post(":key/card") { request, context in try await self.payByCard(surface, request, context) }
            group.post(":key/cancel") { request, context in try await self.cancel(surface, request, context) }
        }
    }

    /// Where a link opens: the choice of method when there are several, else the only method's
    /// first step.
    private func entry(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        let (key, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        if let closed = view.closedReason { return closedPage(surface, key: key, view: view, reason: closed) }
        if view.methods.count > 1 { return methodsPage(surface, key: key, view: view) }
        if view.methods == [.card] { return cardPage(surface, key: key, view: view) }
        return bankStepPage(surface, key: key, view: view)
    }

    // MARK: Bank transfer

    private func bankStep(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        let (key, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        if let closed = view.closedReason { return closedPage(surface, key: key, view: view, reason: closed) }
        guard view.methods.contains(.bankTransfer) else { return HTML.redirect(to: base(surface, key)) }
        return bankStepPage(surface, key: key, view: view)
    }

    /// The bank list, or straight to the login of the bank the merchant pre-selected.
    private func bankStepPage(_ surface: Surface, key: String, view: SandboxStore.CheckoutView) -> Response {
        if let bank = view.preselectedBank { return loginPage(surface, key: key, view: view, bank: bank) }
        let options = view.banks.enumerated().map { index, bank in
            "<label class=\"option\"><input type=\"radio\" name=\"bank\" value=\"\(HTML.escape(bank.id))\"\(index == 0 ? " checked" : "")> \(HTML.escape(bank.name))</label>"
        }.joined(separator: "\n")
        let body = """
            \(summary(view))
            <h1>Elige tu banco</h1>
            <p class="muted">Paga con una transferencia desde tu cuenta bancaria.</p>
            <form method="get" action="\(HTML.escape(base(surface, key)))/login">
            \(options)
            <button type="submit" id="continue">Continuar</button>
            </form>
            \(otherMethodLink(surface, key: key, view: view))
            \(cancelForm(surface, key: key))
            \(bankHint(view))
            """
        return HTML.page(title: "Elige tu banco", body: body, script: eventScript(surface, "on_bank_list"))
    }

    private func loginForm(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        let (key, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        if let closed = view.closedReason { return closedPage(surface, key: key, view: view, reason: closed) }
        let bankID = view.preselectedBank?.id ?? request.uri.queryParameters["bank"].map(String.init) ?? ""
        guard view.methods.contains(.bankTransfer), let bank = view.banks.first(where: { $0.id == bankID }) else {
            return HTML.redirect(to: base(surface, key))
        }
        return loginPage(surface, key: key, view: view, bank: bank)
    }

    private func loginPage(
        _ surface: Surface, key: String, view: SandboxStore.CheckoutView, bank: TestValues.Bank, error: String? = nil, username: String = ""
    ) -> Response {
        let fields =
            view.currency == "MXN"
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
        let chosenBy =
            view.preselectedBank == nil ? "" : "<p class=\"muted\" id=\"preselected\">El comercio eligió este banco para tu pago.</p>"
        let body = """
            \(summary(view))
            <h1 id="bank-name">\(HTML.escape(bank.name))</h1>
            \(chosenBy)
            <p class="muted">Ingresa a tu banco para autorizar la transferencia.</p>
            \(error.map { "<div class=\"error\" id=\"login-error\">\(HTML.escape($0))</div>" } ?? "")
            <form method="post" action="\(HTML.escape(base(surface, key)))/login">
            <input type="hidden" name="bank" value="\(HTML.escape(bank.id))">
            \(fields)
            <button type="submit" id="login">Ingresar</button>
            </form>
            \(otherMethodLink(surface, key: key, view: view))
            \(cancelForm(surface, key: key))
            \(bankHint(view))
            """
        return HTML.page(title: bank.name, body: body, script: eventScript(surface, error == nil ? "on_login" : "on_login_error"))
    }

    private func login(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        var request = request
        let form = HTML.formFields(try await request.collectBody(upTo: 64 * 1024))
        let (key, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        let bankID = form["bank"] ?? ""
        let username = form["username"] ?? ""
        switch await store.login(target: view.target, bank: bankID, username: username, password: form["password"] ?? "") {
        case .failure(let refusal):
            if let closed = view.closedReason { return closedPage(surface, key: key, view: view, reason: closed) }
            guard view.methods.contains(.bankTransfer), let bank = view.banks.first(where: { $0.id == bankID }) else {
                return HTML.redirect(to: base(surface, key))
            }
            return loginPage(surface, key: key, view: view, bank: bank, error: refusal.message, username: username)
        case .success(let ticket):
            if view.currency == "MXN" {
                return confirmPage(
                    surface, key: key, view: view, ticket: ticket, bank: bankID, account: username.filter(\.isNumber),
                    label: "Celular \(username)")
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
            <p class="muted">¿Desde qué cuenta quieres pagar?</p>
            <form method="post" action="\(HTML.escape(base(surface, key)))/confirm">
            <input type="hidden" name="ticket" value="\(HTML.escape(ticket))">
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
            return HTML.redirect(to: base(surface, key))
        }
        let account = form["account"] ?? ""
        guard let test = TestValues.chileAccounts.first(where: { $0.number == account }) else {
            return accountsPage(surface, key: key, view: view, ticket: ticketID)
        }
        return confirmPage(
            surface, key: key, view: view, ticket: ticketID, bank: ticket.bank, account: account, label: "Cuenta \(test.number)")
    }

    private func confirmPage(
        _ surface: Surface, key: String, view: SandboxStore.CheckoutView, ticket: String, bank: String, account: String, label: String
    ) -> Response {
        let bankName = view.banks.first { $0.id == bank }?.name ?? bank
        let body = """
            <h1>Confirma tu pago</h1>
            <div class="amount" id="amount">\(HTML.escape(HTML.amount(view.amount, currency: view.currency)))</div>
            <table class="lines">
            <tr><td>Banco</td><td class="r">\(HTML.escape(bankName))</td></tr>
            <tr><td>Desde</td><td class="r">\(HTML.escape(label))</td></tr>
            <tr><td>Para</td><td class="r" id="confirm-recipient">\(HTML.escape(view.merchantName))</td></tr>
            </table>
            <form method="post" action="\(HTML.escape(base(surface, key)))/pay">
            <input type="hidden" name="ticket" value="\(HTML.escape(ticket))">
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
        do {
            let completion = try await store.pay(ticket: form["ticket"] ?? "", target: view.target, account: form["account"] ?? "")
            return resultPage(surface, key: key, view: view, completion: completion)
        } catch {
            return errorPage(surface, key: key, message: error.message)
        }
    }

    private func cancel(_ surface: Surface, _ request: Request, _ context: SandboxContext) async throws -> Response {
        let (_, view) = try await resolve(surface, context)
        guard let view else { return notFound(surface) }
        if surface == .checkout, let cancel = view.cancelURL {
            return HTML.redirect(to: Self.substitute(cancel, id: view.target.id))
        }
        return HTML.page(
            title: "Cancelado", body: "<h1 id=\"result\">Pago cancelado</h1>",
            script: finishScript(surface, type: "exit", data: ["reason": "canceled"]))
    }

    // MARK: Resolving the link

    func resolve(_ surface: Surface, _ context: SandboxContext) async throws -> (String, SandboxStore.CheckoutView?) {
        let key = try context.parameters.require("key")
        guard SandboxID.isWellFormed(key) else { return ("", nil) }
        switch surface {
        case .checkout: return (key, await store.checkoutView(sessionID: key))
        case .widget: return (key, await store.widgetView(token: key))
        }
    }

    /// The path every step of this payment hangs under (the key is well formed: no escaping
    /// changes it, but it goes through `HTML.escape` wherever it lands in markup all the same).
    func base(_ surface: Surface, _ key: String) -> String {
        "/\(surface.rawValue)/\(key)"
    }

    /// `{CHECKOUT_SESSION_ID}` in a success or cancel URL becomes the session's id.
    static func substitute(_ url: String, id: String) -> String {
        url.replacingOccurrences(of: "{CHECKOUT_SESSION_ID}", with: id)
    }
}
