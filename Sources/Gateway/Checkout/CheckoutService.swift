import Fintoc
import Foundation
import Logging
import PaymentsCore

/// The storefront's checkouts, from request to answer: starts one (validates, makes the Fintoc
/// object, records the checkout, its order and its `checkout.created` event in one transaction),
/// expires one, and reads checkouts and orders back.
///
/// Each job has its own type: `IdempotentRequests` runs a POST once per key, `FintocCheckouts`
/// makes and expires the Fintoc objects (with their metrics), `CheckoutErrors` says what the
/// storefront is answered, and `GatewayStore` records.
struct CheckoutService: Sendable {
    let store: GatewayStore
    let fintoc: any FintocCheckoutAPI
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

    private var requests: IdempotentRequests {
        IdempotentRequests(idempotency: idempotency, answered: outboxChanged, logger: logger)
    }

    private var fintocCheckouts: FintocCheckouts {
        FintocCheckouts(
            fintoc: fintoc, store: store, recipientAccount: recipientAccount, defaultLifetime: defaultLifetime,
            metrics: metrics, logger: logger)
    }

    // MARK: - Create

    func create(body: Data, storefront: Storefront, idempotencyKey: String?, traceparent: String?, now: Date = Date())
        async throws(APIError) -> Answer
    {
        let key = try IdempotentRequests.requireKey(idempotencyKey)
        let request: CheckoutRequest
        do {
            request = try CheckoutRequest.parse(body)
        } catch {
            throw .validation(error)
        }
        let requestHash = IdempotencyStore.hash(Data("POST /v1/checkouts\n".utf8) + request.canonicalForm)
        return try await requests.run(storefront: storefront, key: key, hash: requestHash, now: now) { claim in
            let checkoutID = FintocMapping.checkoutID(storefront: storefront, key: key, requestHash: requestHash)
            switch try await store.lookUpCheckout(checkoutID, orElseOrder: request.order.id.rawValue, storefront: storefront.name) {
            case .made(let existing):
                // The same request after both we and Fintoc forgot its key (24 h): the checkout it
                // made stands, and Fintoc must not be asked for a second object.
                let answer = try answerCreated(existing)
                try await store.storeAnswer(status: answer.status, body: answer.body, for: claim)
                return Answer(status: answer.status, body: answer.body)
            case .order(let order):
                if let order, let refusal = CheckoutErrors.refusal(of: order, for: request) { try await refuse(refusal, claim) }
            }
            let fintocKey: FintocCheckouts.Key = { customer in
                FintocMapping.idempotencyKey(storefront: storefront, key: key, requestHash: requestHash, customer: customer)
            }
            let made = try await fintocCheckouts.make(request, checkoutID: checkoutID, fintocKey: fintocKey, now: now)
            let new = NewCheckout(
                request: request, made: made, storefront: storefront.name, checkoutID: checkoutID, traceparent: traceparent, now: now)
            do {
                let stored = try await store.recordCheckout(
                    new, answering: claim, refusal: { order in CheckoutErrors.refusal(of: order, for: request) }, answer: answerCreated)
                return Answer(status: stored.status, body: stored.body)
            } catch let refusal as APIError where refusal.status == .conflict {
                // Refused inside the transaction, which rolled back: the refusal is still the answer.
                try await refuse(refusal, claim)
            }
        }
    }

    // MARK: - Expire

    /// Expires an open checkout at Fintoc and records `checkout.expired`.
    func expire(checkoutID: String, storefront: Storefront, idempotencyKey: String?, traceparent: String?, now: Date = Date())
        async throws(APIError) -> Answer
    {
        let key = try IdempotentRequests.requireKey(idempotencyKey)
        let requestHash = IdempotencyStore.hash(Data("POST /v1/checkouts/\(checkoutID)/expire\n".utf8))
        return try await requests.run(storefront: storefront, key: key, hash: requestHash, now: now) { claim in
            guard let checkout = try await store.checkout(checkoutID, storefront: storefront.name) else {
                throw APIError.notFound("checkout \(checkoutID)")
            }
            if checkout.status != .created { try await refuse(CheckoutErrors.notOpen(checkout), claim) }
            let fintocKey = FintocMapping.idempotencyKey(storefront: storefront, key: key, requestHash: requestHash)
            do {
                try await fintocCheckouts.expire(checkout, idempotencyKey: fintocKey)
            } catch let error as FintocClientError {
                if case .api(let api) = error, [400, 409, 422].contains(api.status) {
                    try await refuse(CheckoutErrors.notExpirable(checkoutID, api), claim)
                }
                throw CheckoutErrors.provider(error)
            }
            let publicKey = self.publicKey
            let stored = try await store.expireCheckout(checkout.id, now: now, traceparent: traceparent, answering: claim) { current in
                StoredAnswer(status: 200, body: try CheckoutView(current, publicKey: publicKey).encoded())
            }
            guard let stored else { throw APIError.notFound("checkout \(checkoutID)") }
            return Answer(status: stored.status, body: stored.body)
        }
    }

    /// Stores `refusal` as the answer to the claimed key, then throws it.
    private func refuse(_ refusal: APIError, _ claim: IdempotencyClaim) async throws -> Never {
        try await store.storeAnswer(status: Int(refusal.status.code), body: refusal.body, for: claim)
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
            guard let checkout = try await store.checkout(id, storefront: storefront.name) else {
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
            guard let found = try await store.orderWithHistory(id, storefront: storefront.name) else {
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

    /// The mode of an object Fintoc made, for a key (see `FintocCheckouts.mode(reportedBy:)`).
    static func mode(reportedBy reported: FintocMode?, secretKey: String) throws(APIError) -> String {
        try FintocCheckouts.mode(reportedBy: reported, secretKey: secretKey)
    }
}
