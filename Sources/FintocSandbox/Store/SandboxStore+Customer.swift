import Fintoc
import Foundation

/// What the hosted page and the widget need: who is paying what, the test-bank login, and the
/// payment a customer confirms.
extension SandboxStore {
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
        /// Nil while the customer can pay; otherwise why not.
        var closedReason: String?
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
                view.closedReason = "This session token expired."
            }
            return view
        }
        if let record = intents[id], record.intent.widgetToken == token {
            var closed: String?
            switch record.intent.status {
            case .created, .inProgress: closed = nil
            case .expired: closed = "This payment expired."
            default: closed = "This payment is already \(record.intent.status)."
            }
            if closed == nil, let expires = record.tokenExpiresAt, expires <= now() { closed = "This widget token expired." }
            let intent = record.intent
            return CheckoutView(target: .intent(id), amount: intent.amount, currency: intent.currency.rawValue, successURL: nil, cancelURL: nil, lineItems: [], closedReason: closed)
        }
        return nil
    }

    private func view(of record: SessionRecord) -> CheckoutView {
        let session = record.session
        var closed: String?
        switch session.status {
        case .finished: closed = "This checkout is already finished."
        case .expired: closed = "This checkout session expired."
        default: closed = nil
        }
        var view = CheckoutView(
            target: .session(session.id), amount: session.amount, currency: session.currency.rawValue, successURL: session.successURL,
            cancelURL: session.cancelURL, lineItems: session.lineItems ?? [], closedReason: closed
        )
        if let name = session.businessProfile?["name"]?.stringValue, !name.isEmpty { view.merchantName = name }
        return view
    }

    func isOpen(_ target: PayTarget) -> Bool {
        switch target {
        case .session(let id): return sessions[id].map { view(of: $0).closedReason == nil } ?? false
        case .intent(let id): return intents[id].map { [.created, .inProgress].contains($0.intent.status) } ?? false
        }
    }

    /// Checks test-bank credentials; on success starts the payment attempt and answers a ticket
    /// for the next steps, otherwise the message the bank shows (and nothing changes).
    func login(target: PayTarget, currency: String, bank: String, username: String, password: String) -> Result<String, LoginFailure> {
        guard isOpen(target) else { return .failure(.init(message: "This payment can no longer be made.")) }
        guard TestValues.banks(forCurrency: currency).contains(where: { $0.id == bank }) else {
            return .failure(.init(message: "Choose a bank first."))
        }
        if currency == "MXN" {
            let phone = username.filter(\.isNumber)
            guard TestValues.mexicoPhones.contains(where: { $0.number == phone }) else {
                return .failure(.init(message: "That phone number is not enrolled at this bank. Use 5555555555."))
            }
        } else {
            guard TestValues.chileLogins.contains(TestValues.normalizedRUT(username)), password == TestValues.chilePassword else {
                return .failure(.init(message: "Invalid RUT or password."))
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

    struct LoginFailure: Error, Sendable {
        var message: String
    }

    func ticket(_ ticket: String, for target: PayTarget) -> LoginTicket? {
        guard let found = loginTickets[ticket], found.target == target else { return nil }
        return found
    }

    /// The customer confirms paying from `account` (a Chilean account number, or the Mexican
    /// phone they logged in with); answers the outcome the test value gives.
    func pay(ticket: String, target: PayTarget, account: String) throws(SandboxError) -> Outcome {
        guard let login = loginTickets[ticket], login.target == target else {
            throw .invalidParameter("ticket", "Log in to the bank again.")
        }
        let isMexico = login.bank.hasPrefix("mx_")
        let table = isMexico ? TestValues.mexicoPhones : TestValues.chileAccounts
        let number = isMexico ? login.username.filter(\.isNumber) : account
        guard let test = table.first(where: { $0.number == number }) else {
            throw .invalidParameter("account", "Choose one of the accounts shown.")
        }
        var completion = Completion(
            outcome: .succeeded, errorReason: nil,
            sender: BankAccount(holderID: isMexico ? nil : TestValues.normalizedRUT(login.username).replacingOccurrences(of: "-", with: ""), number: test.number, type: test.type, institutionID: login.bank),
            settleAt: nil
        )
        switch test.behavior {
        case .immediately(let outcome, let reason):
            completion.outcome = outcome
            completion.errorReason = reason
        case .pendingThenSucceeded:
            completion.outcome = .pending
            completion.settleAt = now().addingTimeInterval(configuration.settleDelay)
        }
        switch target {
        case .session(let id): try apply(completion, toSession: id)
        case .intent(let id): try apply(completion, toIntent: id)
        }
        loginTickets[ticket] = nil
        return completion.outcome
    }
}
