import Fintoc
import Foundation
import PaymentsCore

/// What the storefront is answered when Fintoc refuses, fails or answers something unusable, or
/// when its order cannot take a new checkout: the error mapping of the checkout path, in one place.
enum CheckoutErrors {
    /// 502 carrying Fintoc's own code, so the storefront can tell a refused amount from an outage.
    static func provider(_ error: FintocClientError) -> APIError {
        switch error {
        case .api(let api) where api.status == 401 || api.status == 403:
            // Our credentials, not the storefront's request: say the provider is unavailable and
            // keep the details (logged by the caller) out of the answer.
            APIError(
                .badGateway, .provider, code: "provider_unavailable",
                message: "Fintoc could not be used; the gateway's Fintoc configuration needs attention")
        case .api(let api):
            APIError(
                .badGateway, .provider, code: api.code ?? api.type.rawValue,
                message: "Fintoc refused the request (HTTP \(api.status))" + (api.message.map { ": \($0)" } ?? ""), param: api.param)
        case .timeout:
            APIError(
                .badGateway, .provider, code: "provider_timeout",
                message: "Fintoc did not answer in time; retry with the same Idempotency-Key")
        case .transport, .invalidResponse, .invalidRequest:
            APIError(
                .badGateway, .provider, code: "provider_unavailable",
                message: "Fintoc could not be reached; retry with the same Idempotency-Key")
        }
    }

    /// Fintoc answered an object without a field the checkout needs.
    static func incomplete(_ field: String, _ id: String) -> APIError {
        APIError(.badGateway, .provider, code: "provider_invalid_response", message: "Fintoc answered \(id) without \(field)")
    }

    /// A 409 the customer lookup could not resolve: 502 naming Fintoc's own code.
    static func unresolvedConflict(_ refusal: FintocAPIError, taxID: TaxID) -> APIError {
        let code = refusal.code ?? "conflict"
        return APIError(
            .badGateway, .provider, code: code,
            message:
                "Fintoc refused the customer (HTTP 409 \(code)): it has a customer with this \(taxID.type.rawValue), but GET /v2/customers found none to reuse",
            param: "customer.tax_id")
    }

    /// Fintoc says the object can no longer be expired (the customer started paying): a conflict
    /// with its state, answered and stored like one.
    static func notExpirable(_ checkoutID: String, _ api: FintocAPIError) -> APIError {
        APIError(
            .conflict, .invalidRequest, code: "checkout_not_open",
            message: "Fintoc can no longer expire checkout \(checkoutID) (\(api.code ?? "refused"))")
    }

    /// Only a checkout the customer has not started paying can be expired.
    static func notOpen(_ checkout: CheckoutRecord) -> APIError {
        APIError(
            .conflict, .invalidRequest, code: "checkout_not_open",
            message:
                "checkout \(checkout.id) is \(checkout.status.rawValue); only a checkout the customer has not started paying can be expired"
        )
    }

    /// Why `order` (as stored: one of this storefront's) cannot take this request's checkout;
    /// nil when it can. Another storefront's order with the same id is another order.
    static func refusal(of order: OrderRecord, for request: CheckoutRequest) -> APIError? {
        if order.status == .paid {
            return APIError(
                .conflict, .invalidRequest, code: "order_already_paid", message: "order \(order.id) is already paid", param: "order_id")
        }
        if order.amount != request.order.amount || order.currency != request.order.currency || order.lineItems != request.order.lineItems {
            return APIError(
                .conflict, .invalidRequest, code: "order_mismatch",
                message: "order \(order.id) exists with other lines or amount; a new attempt must describe the same order",
                param: "order_id")
        }
        return nil
    }

    /// A failure of the gateway's own store: 500, and the storefront retries with the same key.
    static func notRecorded() -> APIError {
        APIError(
            .internalServerError, .api, code: "internal_error",
            message: "the request could not be recorded; retry with the same Idempotency-Key")
    }
}
