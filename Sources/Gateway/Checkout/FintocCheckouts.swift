import Fintoc
import Foundation
import Logging
import PaymentsCore

/// The Fintoc side of a checkout: makes the object a request asks for (hosted session, widget
/// session or payment intent), checks what Fintoc answered, and expires one. Every create is
/// timed and counted in the gateway's metrics; every failure is mapped to the storefront's error.
struct FintocCheckouts: Sendable {
    let fintoc: any FintocCheckoutAPI
    /// Where returning customers are remembered (`HostedSessions`).
    let store: GatewayStore
    let recipientAccount: BankAccount?
    /// Lifetime assumed for a checkout whose Fintoc object names no `expires_at`.
    let defaultLifetime: TimeInterval
    let metrics: GatewayMetrics
    let logger: Logger

    /// The Fintoc idempotency key of a request, for the customer it names (nil: none, or
    /// `customer_data`).
    typealias Key = @Sendable (_ customer: String?) -> String

    /// Makes the Fintoc object of `request`, timed and counted as `create_<ui>`.
    func make(_ request: CheckoutRequest, checkoutID: String, fintocKey: Key, now: Date) async throws(APIError) -> FintocObject {
        let started = ContinuousClock.now
        let operation = "create_\(request.ui.rawValue)"
        do {
            let made = try await call(request, checkoutID: checkoutID, fintocKey: fintocKey, now: now)
            metrics.fintocCall(operation: operation, outcome: "ok", duration: ContinuousClock.now - started)
            return made
        } catch {
            metrics.fintocCall(operation: operation, outcome: error.code, duration: ContinuousClock.now - started)
            throw error
        }
    }

    private func call(_ request: CheckoutRequest, checkoutID: String, fintocKey: Key, now: Date) async throws(APIError) -> FintocObject {
        do {
            switch request.ui {
            case .redirect:
                let session = try await hostedSessions.make(request, checkoutID: checkoutID, fintocKey: fintocKey, now: now)
                guard let redirectURL = session.redirectURL else { throw CheckoutErrors.incomplete("redirect_url", session.id) }
                return FintocObject(
                    providerID: session.id, mode: try mode(reportedBy: session.mode), redirectURL: redirectURL,
                    expiresAt: session.expiresAt ?? now.addingTimeInterval(defaultLifetime), customerID: session.customer?.id)
            case .widget:
                let session = try await fintoc.createCheckoutSession(
                    FintocMapping.sessionV1(request, checkoutID: checkoutID), idempotencyKey: fintocKey(nil))
                guard let token = session.sessionToken else { throw CheckoutErrors.incomplete("session_token", session.id) }
                return FintocObject(
                    providerID: session.id, mode: try mode(reportedBy: session.mode), sessionToken: token,
                    expiresAt: session.expiresAt ?? now.addingTimeInterval(defaultLifetime))
            case .paymentIntent:
                let intent = try await fintoc.createPaymentIntent(
                    FintocMapping.paymentIntent(request, checkoutID: checkoutID, configuredRecipient: recipientAccount),
                    idempotencyKey: fintocKey(nil))
                guard let token = intent.widgetToken else { throw CheckoutErrors.incomplete("widget_token", intent.id) }
                return FintocObject(
                    providerID: intent.id, paymentIntentID: intent.id, mode: try mode(reportedBy: intent.mode),
                    widgetToken: token, expiresAt: intent.expiresAt ?? now.addingTimeInterval(defaultLifetime))
            }
        } catch let error as FintocClientError {
            logger.warning("fintoc refused or failed a checkout", metadata: ["error": "\(error)"])
            throw CheckoutErrors.provider(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badGateway, .provider, code: "provider_unavailable", message: "Fintoc could not be reached")
        }
    }

    /// Expires the Fintoc object behind `checkout`, in the API its kind belongs to.
    func expire(_ checkout: CheckoutRecord, idempotencyKey: String) async throws(FintocClientError) {
        switch checkout.ui {
        case .redirect: _ = try await fintoc.expireCheckoutSession(checkout.providerID, api: .v2, idempotencyKey: idempotencyKey)
        case .widget: _ = try await fintoc.expireCheckoutSession(checkout.providerID, api: .v1, idempotencyKey: idempotencyKey)
        case .paymentIntent: _ = try await fintoc.expirePaymentIntent(checkout.providerID, idempotencyKey: idempotencyKey)
        }
    }

    private var hostedSessions: HostedSessions {
        HostedSessions(fintoc: fintoc, store: store, mode: Self.mode(ofKey: fintoc.configuration.secretKey), logger: logger)
    }

    /// The mode of an object Fintoc made: the mode of our secret key (`sk_live_…` is live). Test
    /// and live never mix, so an answer that names the other mode is refused, and an answer that
    /// names none takes the key's.
    func mode(reportedBy reported: FintocMode?) throws(APIError) -> String {
        try Self.mode(reportedBy: reported, secretKey: fintoc.configuration.secretKey)
    }

    static func mode(reportedBy reported: FintocMode?, secretKey: String) throws(APIError) -> String {
        let expected = mode(ofKey: secretKey)
        guard let reported else { return expected }
        guard reported.rawValue == expected else {
            throw APIError(
                .badGateway, .provider, code: "provider_invalid_response",
                message: "Fintoc answered a \(reported.rawValue) object to a \(expected) key")
        }
        return expected
    }

    /// The mode of a secret key: `sk_live_…` is live, anything else test.
    static func mode(ofKey secretKey: String) -> String {
        secretKey.hasPrefix("sk_live_") ? Mode.live.rawValue : Mode.test.rawValue
    }
}
