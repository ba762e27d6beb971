import Fintoc
import Foundation
import Synchronization

@testable import Gateway

/// Stands in for Fintoc on the checkout path in the router tests: it answers each call as
/// Fintoc's test mode would (objects in test mode, echoing what was asked, one object per
/// idempotency key), records the calls, and refuses with an error it is told to.
final class FintocDouble: FintocCheckoutAPI {
    struct Call: Sendable, Equatable {
        let operation: String
        let idempotencyKey: String?
    }

    let configuration: FintocClientConfiguration
    private struct State {
        var calls: [Call] = []
        var failures: [FintocClientError] = []
        var sessions: [String: CheckoutSession] = [:]
        var intents: [String: PaymentIntent] = [:]
    }
    private let state = Mutex(State())

    init(configuration: FintocClientConfiguration) {
        self.configuration = configuration
    }

    /// The calls made so far, in order.
    var calls: [Call] { state.withLock { $0.calls } }

    /// The next `errors.count` calls fail with these errors, in order.
    func fail(with errors: [FintocClientError]) {
        state.withLock { $0.failures.append(contentsOf: errors) }
    }

    /// Records the call; throws the next queued failure, if any.
    private func record(_ operation: String, key: String?) throws(FintocClientError) {
        let failure = state.withLock { state -> FintocClientError? in
            state.calls.append(Call(operation: operation, idempotencyKey: key))
            return state.failures.isEmpty ? nil : state.failures.removeFirst()
        }
        if let failure { throw failure }
    }

    private static let expiry: TimeInterval = 24 * 3600

    /// The object `key` made before (Fintoc's idempotency), or a new one from `make(n)`, the n-th
    /// of its kind.
    private func remembered<Object: Sendable>(_ key: String, in objects: WritableKeyPath<State, [String: Object]>, make: (Int) -> Object)
        -> Object
    {
        state.withLock { state in
            if let made = state[keyPath: objects][key] { return made }
            let made = make(state[keyPath: objects].count + 1)
            state[keyPath: objects][key] = made
            return made
        }
    }

    /// Marks the object with `id` expired, or refuses as Fintoc does for an unknown id.
    private func expire<Object: Sendable>(
        _ id: String, in objects: WritableKeyPath<State, [String: Object]>, named what: String, _ expire: (inout Object) -> Void,
        identifiedBy objectID: (Object) -> String
    ) throws(FintocClientError) -> Object {
        try state.withLock { state throws(FintocClientError) in
            guard let key = state[keyPath: objects].first(where: { objectID($0.value) == id })?.key,
                var object = state[keyPath: objects][key]
            else {
                throw .api(
                    FintocAPIError(
                        status: 404, envelope: .init(type: .invalidRequestError, code: "resource_missing", message: "No such \(what)"),
                        requestID: nil))
            }
            expire(&object)
            state[keyPath: objects][key] = object
            return object
        }
    }

    func createCheckoutSession(_ parameters: CreateCheckoutSessionV2, idempotencyKey: String) async throws(FintocClientError)
        -> CheckoutSession
    {
        try record("create_checkout_session_v2", key: idempotencyKey)
        return remembered(idempotencyKey, in: \.sessions) { number in
            let now = Date()
            return CheckoutSession(
                id: "cs_double_\(number)", mode: .test, status: .created, amount: parameters.amount, currency: parameters.currency,
                createdAt: now, expiresAt: now.addingTimeInterval(Self.expiry), successURL: parameters.successURL,
                cancelURL: parameters.cancelURL, redirectURL: "https://pay.fintoc.test/checkout/cs_double_\(number)",
                lineItems: parameters.lineItems, paymentMethodTypes: parameters.paymentMethodTypes, metadata: parameters.metadata ?? [:]
            )
        }
    }

    func createCheckoutSession(_ parameters: CreateCheckoutSessionV1, idempotencyKey: String) async throws(FintocClientError)
        -> CheckoutSession
    {
        try record("create_checkout_session_v1", key: idempotencyKey)
        return remembered(idempotencyKey, in: \.sessions) { number in
            let now = Date()
            return CheckoutSession(
                id: "cs_double_\(number)", mode: .test, status: .created, amount: parameters.amount, currency: parameters.currency,
                createdAt: now, expiresAt: now.addingTimeInterval(Self.expiry), successURL: parameters.successURL,
                cancelURL: parameters.cancelURL, sessionToken: "cs_token_double_\(number)", customerEmail: parameters.customerEmail,
                metadata: parameters.metadata ?? [:]
            )
        }
    }

    func expireCheckoutSession(_ id: String, api: CheckoutSessionAPI, idempotencyKey: String) async throws(FintocClientError)
        -> CheckoutSession
    {
        try record("expire_checkout_session", key: idempotencyKey)
        return try expire(id, in: \.sessions, named: "checkout session", { $0.status = .expired }, identifiedBy: \.id)
    }

    func createPaymentIntent(_ parameters: CreatePaymentIntent, idempotencyKey: String) async throws(FintocClientError) -> PaymentIntent {
        try record("create_payment_intent", key: idempotencyKey)
        return remembered(idempotencyKey, in: \.intents) { number in
            let now = Date()
            return PaymentIntent(
                id: "pi_double_\(number)", mode: .test, status: .created, amount: parameters.amount, currency: parameters.currency,
                createdAt: now, expiresAt: now.addingTimeInterval(Self.expiry), widgetToken: "pi_token_double_\(number)",
                customerEmail: parameters.customerEmail, recipientAccount: parameters.recipientAccount, metadata: parameters.metadata ?? [:]
            )
        }
    }

    func expirePaymentIntent(_ id: String, idempotencyKey: String) async throws(FintocClientError) -> PaymentIntent {
        try record("expire_payment_intent", key: idempotencyKey)
        return try expire(id, in: \.intents, named: "payment intent", { $0.status = .expired }, identifiedBy: \.id)
    }

    func findCustomers(query: [URLQueryItem]) async throws(FintocClientError) -> [FintocCustomer] {
        try record("find_customers", key: nil)
        return []
    }
}
