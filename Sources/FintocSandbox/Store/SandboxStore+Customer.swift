import Fintoc
import Foundation

/// What the hosted page and the widget need: who is paying what, with which methods, the
/// test-bank login, and the payment a customer confirms.
extension SandboxStore {
    /// A way to pay that a session offers (`payment_method_types`).
    enum PaymentMethod: String, Sendable, CaseIterable {
        case bankTransfer = "bank_transfer"
        case card
    }

    /// A payable object as the customer's pages show it.
    struct CheckoutView: Sendable {
        var target: PayTarget
        var amount: Int64
        var currency: String
        var successURL: String?
        var cancelURL: String?
        var lineItems: [FintocLineItem]
        /// `business_profile.name` when the merchant sent one (shown as the recipient).
        var merchantName: String = "Comercio de prueba"
        /// The methods the customer may choose from, in the session's order; never empty.
        var methods: [PaymentMethod] = [.bankTransfer]
        /// The bank the merchant pre-selected, whose login opens instead of the bank list.
        var preselectedBank: TestValues.Bank?
        /// Nil while the customer can pay; otherwise why not, in the customer's words.
        var closedReason: String?

        /// The banks the customer may log in to: the pre-selected one only, or the whole list.
        var banks: [TestValues.Bank] {
            preselectedBank.map { [$0] } ?? TestValues.banks(forCurrency: currency)
        }
    }

    /// The page of `GET /checkout/{id}`: v2 sessions only (v1 sessions pay through the widget).
    func checkoutView(sessionID id: String) -> CheckoutView? {
        guard let record = sessions[id], record.flavor == .v2 else { return nil }
        return view(of: record)
    }

    /// The widget's view of a `session_token` or `widget_token`; nil when it opens nothing.
    func widgetView(token: String) -> CheckoutView? {
        guard let id = SandboxID.objectID(ofToken: token) else { return nil }
        if let record = sessions[id], record.session.sessionToken == token {
            var view = view(of: record)
            if view.closedReason == nil, let expires = record.tokenExpiresAt, expires <= now() {
                view.closedReason = "El enlace de este pago expiró."
            }
            return view
        }
        if let record = intents[id], record.intent.widgetToken == token {
            var view = view(of: record)
            if view.closedReason == nil, let expires = record.tokenExpiresAt, expires <= now() {
                view.closedReason = "El enlace de este pago expiró."
            }
            return view
        }
        return nil
    }

    /// The view of whatever `target` names, without the widget token's own expiry.
    func view(of target: PayTarget) -> CheckoutView? {
        switch target {
        case .session(let id): sessions[id].map { view(of: $0) }
        case .intent(let id): intents[id].map { view(of: $0) }
        }
    }

    private func view(of record: IntentRecord) -> CheckoutView {
        let intent = record.intent
        var closed: String?
        switch intent.status {
        case .created, .inProgress: closed = nil
        case .expired: closed = "Este pago expiró."
        default: closed = "Este pago ya está \(Self.statusName(intent.status))."
        }
        return CheckoutView(
            target: .intent(intent.id), amount: intent.amount, currency: intent.currency.rawValue, successURL: nil, cancelURL: nil,
            lineItems: [],
            closedReason: closed
        )
    }

    private func view(of record: SessionRecord) -> CheckoutView {
        let session = record.session
        var closed: String?
        switch session.status {
        case .finished: closed = "Este pago ya terminó."
        case .expired: closed = "Esta sesión de pago expiró."
        default: closed = nil
        }
        var view = CheckoutView(
            target: .session(session.id), amount: session.amount, currency: session.currency.rawValue, successURL: session.successURL,
            cancelURL: session.cancelURL, lineItems: session.lineItems ?? [], closedReason: closed
        )
        if let name = session.businessProfile?["name"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty {
            view.merchantName = name
        }
        let methods = (session.paymentMethodTypes ?? []).compactMap(PaymentMethod.init(rawValue:))
        if !methods.isEmpty { view.methods = methods.reduce(into: []) { if !$0.contains($1) { $0.append($1) } } }
        let institution = session.paymentMethodOptions?["bank_transfer"]?["sender_account"]?["institution_id"]?["value"]?.stringValue
        if let institution = institution?.trimmingCharacters(in: .whitespacesAndNewlines), !institution.isEmpty {
            view.preselectedBank = TestValues.bank(id: institution, currency: view.currency)
        }
        return view
    }

    /// A payment's status as the customer reads it ("Este pago ya está …").
    static func statusName(_ status: PaymentIntent.Status) -> String {
        switch status {
        case .succeeded: "aprobado"
        case .failed: "fallido"
        case .rejected: "rechazado"
        case .pending: "en proceso"
        case .requiresAction: "pendiente de aprobación"
        case .expired: "expirado"
        default: "cerrado"
        }
    }

    func isOpen(_ target: PayTarget) -> Bool {
        view(of: target)?.closedReason == nil
    }

    /// Checks test-bank credentials; on success starts the payment attempt and answers a ticket
    /// for the next steps, otherwise the message the bank shows (and nothing changes).
    func login(target: PayTarget, bank: String, username: String, password: String) -> Result<String, FormRefusal> {
        guard let view = view(of: target), view.closedReason == nil else {
            return .failure(.init(message: "Este pago ya no se puede hacer."))
        }
        guard view.methods.contains(.bankTransfer), view.banks.contains(where: { $0.id == bank }) else {
            return .failure(.init(message: "Elige un banco primero."))
        }
        if view.currency == "MXN" {
            let phone = username.filter(\.isNumber)
            guard TestValues.mexicoPhones.contains(where: { $0.number == phone }) else {
                return .failure(.init(message: "Ese número de celular no está inscrito en este banco. Usa 5555555555."))
            }
        } else {
            guard TestValues.chileLogins.contains(TestValues.normalizedRUT(username)), password == TestValues.chilePassword else {
                return .failure(.init(message: "RUT o clave incorrectos."))
            }
        }
        switch target {
        case .session(let id):
            startAttempt(forSession: id)
        case .intent(let id):
            if intents[id]?.intent.status == .created { intents[id]?.intent.status = .inProgress }
        }
        let ticket = SandboxID.random(32)
        loginTickets[ticket] = LoginTicket(target: target, bank: bank, username: username, createdAt: now())
        return .success(ticket)
    }

    /// Why a form the customer sent changed nothing, in the words the page shows.
    struct FormRefusal: Error, Sendable {
        var message: String
    }

    func ticket(_ ticket: String, for target: PayTarget) -> LoginTicket? {
        guard let found = loginTickets[ticket], found.target == target else { return nil }
        return found
    }

    /// The customer confirms paying from `account` (a Chilean account number, or the Mexican
    /// phone they logged in with); answers what the test value made of the payment.
    func pay(ticket: String, target: PayTarget, account: String) throws(SandboxError) -> Completion {
        guard let login = loginTickets[ticket], login.target == target, let view = view(of: target) else {
            throw .invalidParameter("ticket", "Vuelve a ingresar a tu banco.")
        }
        // A second tab of the same payment must not complete it again once it ended.
        guard view.closedReason == nil else { throw .invalidState("Este pago ya no se puede hacer.") }
        let isMexico = view.currency == "MXN"
        let table = isMexico ? TestValues.mexicoPhones : TestValues.chileAccounts
        let number = isMexico ? login.username.filter(\.isNumber) : account
        guard let test = table.first(where: { $0.number == number }) else {
            throw .invalidParameter("account", "Elige una de las cuentas que se muestran.")
        }
        let sender = BankAccount(
            holderID: isMexico ? nil : TestValues.normalizedRUT(login.username).replacingOccurrences(of: "-", with: ""),
            number: test.number, type: test.type,
            institutionID: login.bank
        )
        let completion = completion(of: test.behavior, sender: sender, paymentType: PaymentMethod.bankTransfer.rawValue)
        try applyForCustomer(completion, to: target)
        loginTickets[ticket] = nil
        return completion
    }

    /// What a test value's behaviour makes of a payment, as the outcome machinery takes it.
    func completion(of behavior: TestValues.Behavior, sender: BankAccount?, paymentType: String) -> Completion {
        var completion = Completion(outcome: .succeeded, errorReason: nil, sender: sender, settleAt: nil, paymentType: paymentType)
        switch behavior {
        case .immediately(let outcome, let reason):
            completion.outcome = outcome
            completion.errorReason = reason
        case .pendingThenSucceeded:
            completion.outcome = .pending
            completion.settleAt = now().addingTimeInterval(configuration.settleDelay)
        }
        return completion
    }

    /// Applies a customer's payment through the outcome machinery. Its refusals are written for
    /// the API; the page shows the customer its own words instead.
    func applyForCustomer(_ completion: Completion, to target: PayTarget) throws(SandboxError) {
        do {
            switch target {
            case .session(let id): try apply(completion, toSession: id)
            case .intent(let id): try apply(completion, toIntent: id)
            }
        } catch {
            throw .invalidState("Este pago ya no se puede hacer.", code: error.code)
        }
    }
}
