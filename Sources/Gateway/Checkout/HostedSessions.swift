import Fintoc
import Foundation
import Logging
import PaymentsCore

/// Hosted checkout sessions (API v2) for returning customers.
///
/// Seed 002: a v2 session whose `customer_data` names a tax id that a Fintoc Customer already
/// has is refused with 409; the Customer's id must be sent in `customer` instead. The gateway
/// remembers the Customer of each session it makes (by mode and normalised tax id) and names a
/// known one by id. A 409 for one it does not know (made outside Cobro) is resolved by finding
/// the Customer through `GET /v2/customers?tax_id=` and sending its id.
///
/// Each body sent has its own Fintoc idempotency key, and the body a request chose is stored
/// before it is sent (`GatewayStore.customerReference`), so a storefront's retry reaches the
/// session its first try made, never a second one.
struct HostedSessions: Sendable {
    /// At most this many session creates per request: `customer_data`, then the customer found
    /// after a 409, and once more after Fintoc forgot a customer the gateway knew.
    static let maxSessionCreates = 3

    let fintoc: any FintocCheckoutAPI
    let store: GatewayStore
    /// The mode of the secret key: customers are remembered per mode.
    let mode: String
    let logger: Logger

    /// Makes the session of `request`, naming its customer by id when Fintoc already has one.
    func make(_ request: CheckoutRequest, checkoutID: String, fintocKey: FintocCheckouts.Key, now: Date) async throws -> CheckoutSession {
        guard let taxID = request.order.customer.taxID, let normalized = taxID.normalizedValue else {
            // No tax id: nothing for Fintoc to match a Customer by, so nothing to conflict with.
            return try await fintoc.createCheckoutSession(
                FintocMapping.sessionV2(request, checkoutID: checkoutID), idempotencyKey: fintocKey(nil))
        }
        var reference = try await recording {
            try await store.customerReference(checkoutID: checkoutID, mode: mode, taxID: taxID, normalized: normalized, now: now)
        }
        for attempt in 1...Self.maxSessionCreates {
            let refusal: FintocAPIError
            do {
                return try await fintoc.createCheckoutSession(
                    FintocMapping.sessionV2(request, checkoutID: checkoutID, customer: reference),
                    idempotencyKey: fintocKey(reference.customerID))
            } catch {
                guard case .api(let api) = error, attempt < Self.maxSessionCreates else { throw error }
                refusal = api
            }
            if refusal.status == 409, reference == .data {
                guard let found = try await findCustomer(taxID, normalized: normalized) else {
                    throw CheckoutErrors.unresolvedConflict(refusal, taxID: taxID)
                }
                logger.debug("returning customer found at Fintoc", metadata: ["customer_id": "\(found)", "checkout_id": "\(checkoutID)"])
                reference = .existing(found)
                try await recording { try await store.chooseCustomer(reference, checkoutID: checkoutID, now: now) }
            } else if refusal.status == 404, refusal.param == "customer", let gone = reference.customerID {
                // A Customer the gateway knew is gone at Fintoc: forget it and start again from
                // what Fintoc says now.
                logger.warning("Fintoc no longer has a remembered customer", metadata: ["customer_id": "\(gone)"])
                try await recording { try await store.forgetCustomer(customerID: gone, checkoutID: checkoutID) }
                reference = try await recording {
                    try await store.customerReference(checkoutID: checkoutID, mode: mode, taxID: taxID, normalized: normalized, now: now)
                }
            } else {
                throw FintocClientError.api(refusal)
            }
        }
        // Unreachable: the last attempt either returns or throws.
        throw APIError(.badGateway, .provider, code: "provider_invalid_response", message: "Fintoc did not make the checkout session")
    }

    /// The id of the Fintoc Customer with this tax id (of the key's mode), if Fintoc has one.
    private func findCustomer(_ taxID: TaxID, normalized: String) async throws(FintocClientError) -> String? {
        let query = [URLQueryItem(name: "tax_id", value: taxID.value), URLQueryItem(name: "tax_id_type", value: taxID.type.rawValue)]
        // Fintoc filters; the check on our side keeps a lax filter from naming someone else.
        return try await fintoc.findCustomers(query: query).first { customer in
            guard let id = customer.id, let tax = customer.taxID, let kind = TaxID.Kind(rawValue: tax.type) else { return false }
            return !id.isEmpty && TaxID(type: kind, value: tax.value).normalizedValue == normalized
        }?.id
    }

    /// Runs a write of the gateway's own; its failure is the gateway's (500), not Fintoc's.
    private func recording<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            logger.error("checkout customer could not be recorded", metadata: ["error": "\(error)"])
            throw CheckoutErrors.notRecorded()
        }
    }
}
