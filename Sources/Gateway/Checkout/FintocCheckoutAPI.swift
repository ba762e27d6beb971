import Fintoc
import Foundation

/// The Fintoc calls the checkout path makes: creating and expiring its objects, and finding a
/// returning customer. A protocol, so that router tests can put a test double at this boundary
/// instead of a sandbox; `FintocClient` is the real one.
protocol FintocCheckoutAPI: Sendable {
    /// The client's configuration; its secret key says which mode (test or live) every object
    /// made must be in.
    var configuration: FintocClientConfiguration { get }

    /// A hosted checkout session (API v2).
    func createCheckoutSession(_ parameters: CreateCheckoutSessionV2, idempotencyKey: String) async throws(FintocClientError)
        -> CheckoutSession
    /// A widget checkout session (API v1).
    func createCheckoutSession(_ parameters: CreateCheckoutSessionV1, idempotencyKey: String) async throws(FintocClientError)
        -> CheckoutSession
    func expireCheckoutSession(_ id: String, api: CheckoutSessionAPI, idempotencyKey: String) async throws(FintocClientError)
        -> CheckoutSession
    func createPaymentIntent(_ parameters: CreatePaymentIntent, idempotencyKey: String) async throws(FintocClientError) -> PaymentIntent
    func expirePaymentIntent(_ id: String, idempotencyKey: String) async throws(FintocClientError) -> PaymentIntent
    /// The first page of the customers `GET /v2/customers` lists for `query`.
    func findCustomers(query: [URLQueryItem]) async throws(FintocClientError) -> [FintocCustomer]
}

extension FintocClient: FintocCheckoutAPI {
    func findCustomers(query: [URLQueryItem]) async throws(FintocClientError) -> [FintocCustomer] {
        try await customers(query: query, maxPages: 1).collect()
    }
}
