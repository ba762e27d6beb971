import Fintoc
import Foundation
import Logging
import PaymentsCore

/// Starts and ends checkouts: validates, makes the Fintoc object, and records the checkout, its
/// order and its `checkout.created` event in one transaction.
struct CheckoutService: Sendable {
    let database: GatewayStore
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
        return try await idempotent(storefront: storefront, key: key, hash: requestHash, now: now) { claim in
            let checkoutID = FintocMapping.checkoutID(storefront: storefront, key: key, requestHash: requestHash)
            switch try await precheck(request, checkoutID: checkoutID, storefront: storefront) {
            case .made(let existing):
                // The same request after both we and Fintoc forgot its key (24 h): the checkout it
                // made stands, and Fintoc must not be asked for a second object.
                let answer = Answer(status: 201, body: try CheckoutView(existing, publicKey: publicKey).encoded())
                try await database.storeAnswer(status: answer.status, body: answer.body, for: claim)
                return answer
            case .refused(let refusal):
                try await refuse(refusal, claim)
            case .proceed:
                break
            }
            let fintocKey: FintocKey = { customer in
                FintocMapping.idempotencyKey(storefront: storefront, key: key, requestHash: requestHash, customer: customer)
            }
            let made = try await makeFintocObject(request, checkoutID: checkoutID, fintocKey: fintocKey, now: now)
            let new = NewCheckout(request: request, made: made, storefront: storefront.name, checkoutID: checkoutID, traceparent: traceparent, now: now)
            do {
                let stored = try await database.recordCheckout(
                    new, answering: claim, refusal: { order in Self.refusal(of: order, for: request) }, answer: answerCreated)
                return Answer(status: stored.status, body: stored.body)
            } catch let refusal as APIError where refusal.status == .conflict {
                // Refused inside the transaction, which rolled back: the refusal is still the answer.
                try await refuse(refusal, claim)
            }
        }
    }

    // MARK: - Expire

    /// Expires an open checkout at Fintoc and records `checkout.expired`.
    func expire(checkoutID: String, storefront: Storefront, idempotencyKey: String?, traceparent: String?, now: Date = Date()) async throws(APIError) -> Answer {
        let key = try Self.requireKey(idempotencyKey)
        let requestHash = IdempotencyStore.hash(Data("POST /v1/checkouts/\(checkoutID)/expire\n".utf8))
        return try await idempotent(storefront: storefront, key: key, hash: requestHash, now: now) { claim in
            guard let checkout = try await database.checkout(checkoutID, storefront: storefront.name) else {
                throw APIError.notFound("checkout \(checkoutID)")
            }
            if checkout.status != .created {
                let refusal = APIError(.conflict, .invalidRequest, code: "checkout_not_open",
                                       message: "checkout \(checkoutID) is \(checkout.status.rawValue); only a checkout the customer has not started paying can be expired")
                try await refuse(refusal, claim)
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
                    try await refuse(refusal, claim)
                }
                throw Self.providerError(error)
            }
            let publicKey = self.publicKey
            let stored = try await database.expireCheckout(checkout.id, now: now, traceparent: traceparent, answering: claim) { current in
                StoredAnswer(status: 200, body: try CheckoutView(current, publicKey: publicKey).encoded())
            }
            guard let stored else { throw APIError.notFound("checkout \(checkoutID)") }
            return Answer(status: stored.status, body: stored.body)
        }
    }

    /// Stores `refusal` as the answer to the claimed key, then throws it.
    private func refuse(_ refusal: APIError, _ claim: IdempotencyClaim) async throws -> Never {
        try await database.storeAnswer(status: Int(refusal.status.code), body: refusal.body, for: claim)
        throw refusal
    }

    /// The 201 answer for a recorded checkout (made now, or by this request before).
    private var answerCreated: @Sendable (CheckoutRecord) throws -> StoredAnswer {
        let publicKey = self.publicKey
        return { checkout in StoredAnswer(status: 201, body: try CheckoutView(checkout, publicKey: publicKey).encoded()) }
    }

    // MARK: - Reads

    func checkoutView(_ id: String, storefront: Storefront) async throws(APIError) -> Data {
        do {
            guard let checkout = try await database.checkout(id, storefront: storefront.name) else {
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
            guard let found = try await database.orderWithHistory(id, storefront: storefront.name) else {
                throw APIError.notFound("order \(id)")
            }
            let view = OrderView(found.order, checkouts: found.checkouts, events: found.events, publicKey: publicKey)
            return try Timestamp.jsonEncoder().encode(view)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internalServerError, .api, code: "internal_error", message: "the order could not be read")
        }
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
        switch try await database.lookUpCheckout(checkoutID, orElseOrder: request.order.id.rawValue, storefront: storefront.name) {
        case .made(let existing): return .made(existing)
        case .order(let order):
            guard let order, let refusal = Self.refusal(of: order, for: request) else { return .proceed }
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
}
