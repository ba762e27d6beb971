import Fintoc
import Foundation
import GRDB
import Logging
import PaymentsCore

/// Starts and ends checkouts: validates, makes the Fintoc object, and records the checkout, its
/// order and its `checkout.created` event in one transaction.
struct CheckoutService: Sendable {
    let database: GatewayDatabase
    let fintoc: FintocClient
    let idempotency: IdempotencyStore
    let publicKey: String
    let recipientAccount: BankAccount?
    /// Lifetime assumed for a widget checkout whose Fintoc object names no `expires_at`.
    let defaultLifetime: TimeInterval
    /// Wakes the outbox relay after a commit that added events.
    let outboxChanged: @Sendable () -> Void
    let metrics: GatewayMetrics
    let logger: Logger

    /// An answer: its status and JSON body, stored for idempotent replay when it is final.
    struct Answer: Sendable {
        let status: Int
        let body: Data
        var replayed = false
    }

    // MARK: - Create

    func create(body: Data, storefront: Storefront, idempotencyKey: String?, traceparent: String?, now: Date = Date()) async throws(APIError) -> Answer {
        let key = try Self.requireKey(idempotencyKey)
        let request: CheckoutRequest
        do {
            request = try CheckoutRequest.parse(body)
        } catch {
            throw .validation(error)
        }
        let requestHash = IdempotencyStore.hash(Data("POST /v1/checkouts\n".utf8) + request.canonicalForm)
        return try await idempotent(storefront: storefront, key: key, hash: requestHash, now: now) { complete in
            let checkoutID = FintocMapping.checkoutID(storefront: storefront, key: key, requestHash: requestHash)
            switch try await precheck(request, checkoutID: checkoutID, storefront: storefront) {
            case .made(let existing):
                // The same request after both we and Fintoc forgot its key (24 h): the checkout it
                // made stands, and Fintoc must not be asked for a second object.
                let answer = Answer(status: 201, body: try CheckoutView(existing, publicKey: publicKey).encoded())
                try await database.pool.write { db in try complete(db, answer) }
                return answer
            case .refused(let refusal):
                try await database.pool.write { db in try complete(db, Answer(status: Int(refusal.status.code), body: refusal.body)) }
                throw refusal
            case .proceed:
                break
            }
            let fintocKey: FintocKey = { customer in
                FintocMapping.idempotencyKey(storefront: storefront, key: key, requestHash: requestHash, customer: customer)
            }
            let made = try await makeFintocObject(request, checkoutID: checkoutID, fintocKey: fintocKey, now: now)
            do {
                return try await database.pool.write { db in
                    let answer = try record(request, storefront: storefront, checkoutID: checkoutID, made: made, traceparent: traceparent, now: now, in: db)
                    try complete(db, answer)
                    return answer
                }
            } catch let refusal as APIError where refusal.status == .conflict {
                // Refused inside the transaction, which rolled back: the refusal is still the answer.
                try await database.pool.write { db in try complete(db, Answer(status: Int(refusal.status.code), body: refusal.body)) }
                throw refusal
            }
        }
    }

    // MARK: - Expire

    /// Expires an open checkout at Fintoc and records `checkout.expired`.
    func expire(checkoutID: String, storefront: Storefront, idempotencyKey: String?, traceparent: String?, now: Date = Date()) async throws(APIError) -> Answer {
        let key = try Self.requireKey(idempotencyKey)
        let requestHash = IdempotencyStore.hash(Data("POST /v1/checkouts/\(checkoutID)/expire\n".utf8))
        return try await idempotent(storefront: storefront, key: key, hash: requestHash, now: now) { complete in
            guard let checkout = try await database.pool.read({ db in try Self.checkout(checkoutID, of: storefront, in: db) }) else {
                throw APIError.notFound("checkout \(checkoutID)")
            }
            if checkout.status != .created {
                let refusal = APIError(.conflict, .invalidRequest, code: "checkout_not_open",
                                       message: "checkout \(checkoutID) is \(checkout.status.rawValue); only a checkout the customer has not started paying can be expired")
                try await database.pool.write { db in try complete(db, Answer(status: Int(refusal.status.code), body: refusal.body)) }
                throw refusal
            }
            let fintocKey = FintocMapping.idempotencyKey(storefront: storefront, key: key, requestHash: requestHash)
            do {
                switch checkout.ui {
                case .redirect: _ = try await fintoc.expireCheckoutSession(checkout.providerId, api: .v2, idempotencyKey: fintocKey)
                case .widget: _ = try await fintoc.expireCheckoutSession(checkout.providerId, api: .v1, idempotencyKey: fintocKey)
                case .paymentIntent: _ = try await fintoc.expirePaymentIntent(checkout.providerId, idempotencyKey: fintocKey)
                }
            } catch let error as FintocClientError {
                if case .api(let api) = error, [400, 409, 422].contains(api.status) {
                    // Fintoc says the object can no longer be expired (the customer started paying):
                    // a conflict with its state, answered and stored like one.
                    let refusal = APIError(.conflict, .invalidRequest, code: "checkout_not_open",
                                           message: "Fintoc can no longer expire checkout \(checkoutID) (\(api.code ?? "refused"))")
                    try await database.pool.write { db in try complete(db, Answer(status: Int(refusal.status.code), body: refusal.body)) }
                    throw refusal
                }
                throw Self.providerError(error)
            }
            return try await database.pool.write { db in
                guard var current = try CheckoutRecord.fetchOne(db, key: checkout.id), let order = try current.order(in: db) else {
                    throw APIError.notFound("checkout \(checkoutID)")
                }
                if !current.status.isTerminal {
                    current.status = .expired
                    current.updatedAt = now
                    current.version += 1
                    try current.update(db)
                    let event = DomainEvent.checkoutExpired(CheckoutExpired(
                        order: order.snapshot, checkout: current.snapshot, mode: Mode(rawValue: current.mode) ?? .test, occurredAt: now))
                    try OutboxRecord.enqueue(EventEnvelope(event: event, time: now, traceparent: traceparent), in: db)
                }
                let answer = Answer(status: 200, body: try CheckoutView(current, publicKey: publicKey).encoded())
                try complete(db, answer)
                return answer
            }
        }
    }

    // MARK: - Reads

    func checkoutView(_ id: String, storefront: Storefront) async throws(APIError) -> Data {
        do {
            guard let checkout = try await database.pool.read({ db in try Self.checkout(id, of: storefront, in: db) }) else {
                throw APIError.notFound("checkout \(id)")
            }
            return try CheckoutView(checkout, publicKey: publicKey).encoded()
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internalServerError, .api, code: "internal_error", message: "the checkout could not be read")
        }
    }

    func orderView(_ id: String, storefront: Storefront) async throws(APIError) -> Data {
        do {
            let view = try await database.pool.read { db -> OrderView? in
                guard let order = try OrderRecord.find(storefront: storefront.name, id: id, in: db) else { return nil }
                let checkouts = try CheckoutRecord.filter(Column("storefront") == storefront.name && Column("order_id") == id).order(Column("attempt")).fetchAll(db)
                let events = try OutboxRecord.filter(Column("storefront") == storefront.name && Column("order_id") == id).order(Column("sequence")).fetchAll(db)
                return OrderView(order, checkouts: checkouts, events: events, publicKey: publicKey)
            }
            guard let view else { throw APIError.notFound("order \(id)") }
            return try Timestamp.jsonEncoder().encode(view)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internalServerError, .api, code: "internal_error", message: "the order could not be read")
        }
    }

    /// A checkout of `storefront`'s orders; another storefront's checkout does not exist for it.
    static func checkout(_ id: String, of storefront: Storefront, in db: Database) throws -> CheckoutRecord? {
        guard let checkout = try CheckoutRecord.fetchOne(db, key: id), checkout.storefront == storefront.name else { return nil }
        return checkout
    }

    private enum Precheck {
        /// This very request already made its checkout.
        case made(CheckoutRecord)
        case refused(APIError)
        case proceed
    }

    /// What the store says before Fintoc is called, in one read: the checkout this request
    /// made, if any (it wins over anything the order says since), else why the order refuses a
    /// new checkout, else nothing.
    private func precheck(_ request: CheckoutRequest, checkoutID: String, storefront: Storefront) async throws -> Precheck {
        try await database.pool.read { db in
            if let existing = try Self.checkout(checkoutID, of: storefront, in: db) { return .made(existing) }
            guard let order = try OrderRecord.find(storefront: storefront.name, id: request.order.id.rawValue, in: db),
                let refusal = Self.refusal(of: order, for: request)
            else { return .proceed }
            return .refused(refusal)
        }
    }

    /// Why `order` (as stored: one of this storefront's) cannot take this request's checkout;
    /// nil when it can. Another storefront's order with the same id is another order.
    static func refusal(of order: OrderRecord, for request: CheckoutRequest) -> APIError? {
        if order.status == .paid {
            return APIError(.conflict, .invalidRequest, code: "order_already_paid", message: "order \(order.id) is already paid", param: "order_id")
        }
        if order.amount != request.order.amount || order.currency != request.order.currency || order.lineItems != request.order.lineItems {
            return APIError(.conflict, .invalidRequest, code: "order_mismatch",
                            message: "order \(order.id) exists with other lines or amount; a new attempt must describe the same order", param: "order_id")
        }
        return nil
    }

    /// What Fintoc made for a checkout.
    struct FintocObject: Sendable {
        var providerID: String
        var paymentIntentID: String?
        var mode: String
        var redirectURL: String?
        var sessionToken: String?
        var widgetToken: String?
        var expiresAt: Date
        /// The Customer a hosted session was made for (`cus_…`), remembered by tax id.
        var customerID: String?
    }

    /// The Fintoc idempotency key of this request, for the customer it names (nil: none, or
    /// `customer_data`).
    typealias FintocKey = @Sendable (_ customer: String?) -> String

    private func makeFintocObject(_ request: CheckoutRequest, checkoutID: String, fintocKey: FintocKey, now: Date) async throws(APIError) -> FintocObject {
        let started = ContinuousClock.now
        let operation = "create_\(request.ui.rawValue)"
        do {
            let made = try await callFintoc(request, checkoutID: checkoutID, fintocKey: fintocKey, now: now)
            metrics.fintocCall(operation: operation, outcome: "ok", duration: ContinuousClock.now - started)
            return made
        } catch {
            metrics.fintocCall(operation: operation, outcome: error.code, duration: ContinuousClock.now - started)
            throw error
        }
    }

    private func callFintoc(_ request: CheckoutRequest, checkoutID: String, fintocKey: FintocKey, now: Date) async throws(APIError) -> FintocObject {
        do {
            switch request.ui {
            case .redirect:
                let session = try await hostedSession(request, checkoutID: checkoutID, fintocKey: fintocKey, now: now)
                guard let redirectURL = session.redirectURL else { throw Self.incomplete("redirect_url", session.id) }
                return FintocObject(providerID: session.id, mode: try mode(reportedBy: session.mode), redirectURL: redirectURL,
                                    expiresAt: session.expiresAt ?? now.addingTimeInterval(defaultLifetime), customerID: session.customer?.id)
            case .widget:
                let session = try await fintoc.createCheckoutSession(FintocMapping.sessionV1(request, checkoutID: checkoutID), idempotencyKey: fintocKey(nil))
                guard let token = session.sessionToken else { throw Self.incomplete("session_token", session.id) }
                return FintocObject(providerID: session.id, mode: try mode(reportedBy: session.mode), sessionToken: token,
                                    expiresAt: session.expiresAt ?? now.addingTimeInterval(defaultLifetime))
            case .paymentIntent:
                let intent = try await fintoc.createPaymentIntent(
                    FintocMapping.paymentIntent(request, checkoutID: checkoutID, configuredRecipient: recipientAccount), idempotencyKey: fintocKey(nil))
                guard let token = intent.widgetToken else { throw Self.incomplete("widget_token", intent.id) }
                return FintocObject(providerID: intent.id, paymentIntentID: intent.id, mode: try mode(reportedBy: intent.mode),
                                    widgetToken: token, expiresAt: intent.expiresAt ?? now.addingTimeInterval(defaultLifetime))
            }
        } catch let error as FintocClientError {
            logger.warning("fintoc refused or failed a checkout", metadata: ["error": "\(error)"])
            throw Self.providerError(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badGateway, .provider, code: "provider_unavailable", message: "Fintoc could not be reached")
        }
    }

    /// The mode of an object Fintoc made: the mode of our secret key (`sk_live_…` is live). Test
    /// and live never mix, so an answer that names the other mode is refused, and an answer that
    /// names none takes the key's.
    func mode(reportedBy reported: FintocMode?) throws(APIError) -> String {
        try Self.mode(reportedBy: reported, secretKey: fintoc.configuration.secretKey)
    }

    static func mode(reportedBy reported: FintocMode?, secretKey: String) throws(APIError) -> String {
        let expected = secretKey.hasPrefix("sk_live_") ? Mode.live.rawValue : Mode.test.rawValue
        guard let reported else { return expected }
        guard reported.rawValue == expected else {
            throw APIError(.badGateway, .provider, code: "provider_invalid_response",
                           message: "Fintoc answered a \(reported.rawValue) object to a \(expected) key")
        }
        return expected
    }

    static func incomplete(_ field: String, _ id: String) -> APIError {
        APIError(.badGateway, .provider, code: "provider_invalid_response", message: "Fintoc answered \(id) without \(field)")
    }

    /// 502 carrying Fintoc's own code, so the storefront can tell a refused amount from an outage.
    static func providerError(_ error: FintocClientError) -> APIError {
        switch error {
        case .api(let api) where api.status == 401 || api.status == 403:
            // Our credentials, not the storefront's request: say the provider is unavailable and
            // keep the details (logged by the caller) out of the answer.
            APIError(.badGateway, .provider, code: "provider_unavailable", message: "Fintoc could not be used; the gateway's Fintoc configuration needs attention")
        case .api(let api):
            APIError(.badGateway, .provider, code: api.code ?? api.type.rawValue,
                     message: "Fintoc refused the request (HTTP \(api.status))" + (api.message.map { ": \($0)" } ?? ""), param: api.param)
        case .timeout:
            APIError(.badGateway, .provider, code: "provider_timeout", message: "Fintoc did not answer in time; retry with the same Idempotency-Key")
        case .transport, .invalidResponse, .invalidRequest:
            APIError(.badGateway, .provider, code: "provider_unavailable", message: "Fintoc could not be reached; retry with the same Idempotency-Key")
        }
    }

    /// Writes order, checkout and `checkout.created`; returns the 201 answer.
    private func record(_ request: CheckoutRequest, storefront: Storefront, checkoutID: String, made: FintocObject, traceparent: String?, now: Date, in db: Database) throws -> Answer {
        let existing = try OrderRecord.find(storefront: storefront.name, id: request.order.id.rawValue, in: db)
        // Checked again inside the transaction: a concurrent request for the same new order (with
        // another key) may have recorded it, or paid it, since the check before calling Fintoc.
        if let existing, try CheckoutRecord.fetchOne(db, key: checkoutID) == nil,
            let refusal = Self.refusal(of: existing, for: request)
        {
            throw refusal
        }
        let order: OrderRecord
        if var known = existing {
            known.customer = request.order.customer
            known.language = request.order.language
            known.updatedAt = now
            try known.update(db)
            order = known
        } else {
            // insert, not save: save would first try an UPDATE that finds nothing (3–5% of the
            // gateway's CPU per checkout, measured by scripts/bench).
            order = OrderRecord(
                id: request.order.id.rawValue, storefront: storefront.name, amount: request.order.amount,
                currency: request.order.currency, language: request.order.language, customer: request.order.customer,
                lineItems: request.order.lineItems, status: .open, createdAt: now, updatedAt: now
            )
            try order.insert(db)
        }

        if let existing = try CheckoutRecord.fetchOne(db, key: checkoutID) {
            // The same request after its idempotency record expired: the checkout stands.
            return Answer(status: 201, body: try CheckoutView(existing, publicKey: publicKey).encoded())
        }
        let attempt = (try Int.fetchOne(db, sql: "SELECT MAX(attempt) FROM checkout WHERE storefront = ? AND order_id = ?", arguments: [order.storefront, order.id]) ?? 0) + 1
        let checkout = CheckoutRecord(
            id: checkoutID, storefront: order.storefront, orderId: order.id, attempt: attempt, ui: request.ui, status: .created, mode: made.mode,
            providerId: made.providerID, paymentIntentId: made.paymentIntentID, redirectUrl: made.redirectURL,
            sessionToken: made.sessionToken, widgetToken: made.widgetToken, successUrl: request.successURL,
            cancelUrl: request.cancelURL, metadata: request.metadata, failureReason: nil,
            expiresAt: made.expiresAt, createdAt: now, updatedAt: now
        )
        try checkout.insert(db)
        if request.ui == .redirect, request.order.customer.taxID != nil {
            try FintocCustomers.recorded(checkoutID: checkoutID, mode: made.mode, taxID: request.order.customer.taxID, customerID: made.customerID, now: now, in: db)
        }
        let event = DomainEvent.checkoutCreated(CheckoutCreated(
            order: order.snapshot, checkout: checkout.snapshot, mode: Mode(rawValue: made.mode) ?? .test, occurredAt: now))
        try OutboxRecord.enqueue(EventEnvelope(event: event, time: now, traceparent: traceparent), in: db)
        return Answer(status: 201, body: try CheckoutView(checkout, publicKey: publicKey).encoded())
    }
}
