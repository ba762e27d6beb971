import Foundation
import PaymentsCore

/// Which Checkout Session API: v2 (hosted page, `redirect_url`) or v1 (widget, `session_token`).
public enum CheckoutSessionAPI: String, Sendable {
    case v1
    case v2

    var path: String { "/\(rawValue)/checkout_sessions" }
}

extension FintocClient {
    // MARK: Checkout Sessions

    /// `POST /v2/checkout_sessions`: a session paid on Fintoc's hosted page.
    public func createCheckoutSession(_ parameters: CreateCheckoutSessionV2, idempotencyKey: String) async throws(FintocClientError)
        -> CheckoutSession
    {
        try await send(.POST, .path(CheckoutSessionAPI.v2.path), body: parameters, idempotencyKey: idempotencyKey).0
    }

    /// `POST /v1/checkout_sessions`: a session paid in the embedded widget.
    public func createCheckoutSession(_ parameters: CreateCheckoutSessionV1, idempotencyKey: String) async throws(FintocClientError)
        -> CheckoutSession
    {
        try await send(.POST, .path(CheckoutSessionAPI.v1.path), body: parameters, idempotencyKey: idempotencyKey).0
    }

    public func checkoutSession(_ id: String, api: CheckoutSessionAPI = .v2) async throws(FintocClientError) -> CheckoutSession {
        try await send(.GET, .path("\(api.path)/\(escaped(id))")).0
    }

    /// Expires a session that is still `created`, and its pending payment.
    public func expireCheckoutSession(_ id: String, api: CheckoutSessionAPI = .v2, idempotencyKey: String) async throws(FintocClientError)
        -> CheckoutSession
    {
        try await send(.POST, .path("\(api.path)/\(escaped(id))/expire"), body: JSONValue.object([:]), idempotencyKey: idempotencyKey).0
    }

    public func checkoutSessions(api: CheckoutSessionAPI = .v2, query: [URLQueryItem] = [], maxPages: Int = 100) -> PagedList<
        CheckoutSession
    > {
        list(api.path, query: query, maxPages: maxPages)
    }

    // MARK: Payment Intents

    public func createPaymentIntent(_ parameters: CreatePaymentIntent, idempotencyKey: String) async throws(FintocClientError)
        -> PaymentIntent
    {
        try await send(.POST, .path("/v1/payment_intents"), body: parameters, idempotencyKey: idempotencyKey).0
    }

    public func paymentIntent(_ id: String) async throws(FintocClientError) -> PaymentIntent {
        try await send(.GET, .path("/v1/payment_intents/\(escaped(id))")).0
    }

    public func expirePaymentIntent(_ id: String, idempotencyKey: String) async throws(FintocClientError) -> PaymentIntent {
        try await send(
            .POST, .path("/v1/payment_intents/\(escaped(id))/expire"), body: JSONValue.object([:]), idempotencyKey: idempotencyKey
        ).0
    }

    public func paymentIntents(query: [URLQueryItem] = [], maxPages: Int = 100) -> PagedList<PaymentIntent> {
        list("/v1/payment_intents", query: query, maxPages: maxPages)
    }

    // MARK: Webhook endpoints

    /// The answer carries the endpoint's signing `secret`, shown this once.
    public func createWebhookEndpoint(_ parameters: WebhookEndpointParameters, idempotencyKey: String) async throws(FintocClientError)
        -> WebhookEndpoint
    {
        try await send(.POST, .path("/v1/webhook_endpoints"), body: parameters, idempotencyKey: idempotencyKey).0
    }

    public func webhookEndpoint(_ id: String) async throws(FintocClientError) -> WebhookEndpoint {
        try await send(.GET, .path("/v1/webhook_endpoints/\(escaped(id))")).0
    }

    public func updateWebhookEndpoint(_ id: String, _ parameters: WebhookEndpointParameters) async throws(FintocClientError)
        -> WebhookEndpoint
    {
        try await send(.PATCH, .path("/v1/webhook_endpoints/\(escaped(id))"), body: parameters).0
    }

    public func deleteWebhookEndpoint(_ id: String) async throws(FintocClientError) -> WebhookEndpoint {
        try await send(.DELETE, .path("/v1/webhook_endpoints/\(escaped(id))")).0
    }

    /// Asks Fintoc to send a test event to the endpoint.
    public func testWebhookEndpoint(_ id: String, idempotencyKey: String) async throws(FintocClientError) -> JSONValue {
        try await send(
            .POST, .path("/v1/webhook_endpoints/\(escaped(id))/test"), body: JSONValue.object([:]), idempotencyKey: idempotencyKey
        ).0
    }

    public func webhookEndpoints(query: [URLQueryItem] = [], maxPages: Int = 100) -> PagedList<WebhookEndpoint> {
        list("/v1/webhook_endpoints", query: query, maxPages: maxPages)
    }

    // MARK: Refunds

    public func createRefund(_ parameters: CreateRefund, idempotencyKey: String) async throws(FintocClientError) -> Refund {
        try await send(.POST, .path("/v1/refunds"), body: parameters, idempotencyKey: idempotencyKey).0
    }

    public func refund(_ id: String) async throws(FintocClientError) -> Refund {
        try await send(.GET, .path("/v1/refunds/\(escaped(id))")).0
    }
}
