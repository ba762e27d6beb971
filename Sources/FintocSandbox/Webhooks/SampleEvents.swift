import Fintoc
import Foundation
import PaymentsCore

/// Realistic events with fresh ids, for `fintoc-sandbox trigger`, like the Stripe and Fintoc
/// CLIs' `trigger`: the same shapes the sandbox emits for a real payment.
public enum SampleEvents {
    public static let supportedTypes: [String] = [
        "payment_intent.succeeded", "payment_intent.failed", "payment_intent.rejected", "payment_intent.pending",
        "payment_intent.requires_action", "payment_intent.expired", "checkout_session.finished", "checkout_session.expired",
        "refund.in_progress", "refund.succeeded", "refund.failed",
    ]

    /// The event, or nil for a type this command does not know.
    public static func make(type: String, amount: Int64 = 350_000, currency: FintocCurrency = .clp, now: Date = Date()) -> Event? {
        guard supportedTypes.contains(type) else { return nil }
        let created = Timestamp.truncatedToMilliseconds(now)
        let sessionID = SandboxID.checkoutSession()
        let sender = BankAccount(holderID: "416148503", number: "813990168", type: "checking_account", institutionID: "cl_banco_de_chile")
        func intent(_ status: PaymentIntent.Status) -> PaymentIntent {
            var intent = PaymentIntent(
                id: SandboxID.paymentIntent(), mode: .test, status: status, amount: amount, currency: currency, createdAt: created,
                expiresAt: created.addingTimeInterval(86_400), senderAccount: status == .expired ? nil : sender,
                metadata: ["order": "trigger"]
            )
            switch status {
            case .succeeded:
                intent.transactionDate = created
                intent.referenceID = SandboxID.random(8)
            case .failed: intent.errorReason = "insufficient_funds"
            case .rejected: intent.errorReason = "mfa_invalid_authorization"
            case .requiresAction: intent.nextAction = .object(TestValues.requiresActionNextAction.mapValues { .string($0) })
            default: break
            }
            return intent
        }
        func session(_ status: CheckoutSession.Status, paid: PaymentIntent?) -> SessionRecord {
            let session = CheckoutSession(
                id: sessionID, mode: .test, status: status, amount: amount, currency: currency, createdAt: created,
                expiresAt: created.addingTimeInterval(86_400), successURL: "https://merchant.example/success",
                cancelURL: "https://merchant.example/cancel",
                redirectURL: "http://127.0.0.1:8090/checkout/\(sessionID)", paymentMethodTypes: ["bank_transfer"],
                metadata: ["order": "trigger"]
            )
            return SessionRecord(session: session, flavor: .v2, tokenExpiresAt: nil, sequence: 0, paymentIntentID: paid?.id)
        }
        let data: JSONValue
        switch type {
        case "checkout_session.finished":
            let paid = intent(.succeeded)
            data = Rendering.session(session(.finished, paid: paid), intent: paid)
        case "checkout_session.expired":
            data = Rendering.session(session(.expired, paid: nil), intent: nil)
        case let refundType where refundType.hasPrefix("refund."):
            let status: Refund.Status =
                refundType == "refund.succeeded" ? .succeeded : refundType == "refund.failed" ? .failed : .inProgress
            data = Rendering.refund(
                Refund(
                    id: SandboxID.refund(), mode: .test, status: status, amount: amount, currency: currency,
                    resourceID: SandboxID.paymentIntent(), createdAt: created))
        default:
            let status = PaymentIntent.Status(rawValue: String(type.dropFirst("payment_intent.".count)))
            data = Rendering.intent(intent(status))
        }
        return Event(id: SandboxID.event(), type: .init(rawValue: type), mode: .test, createdAt: created, data: data)
    }

    /// The exact bytes sent for an event.
    public static func body(of event: Event) -> Data { Rendering.data(event) }
}
