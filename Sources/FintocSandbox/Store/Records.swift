import Fintoc
import Foundation

/// Which API created a session: v2 sends the customer to `redirect_url`, v1 opens the widget with
/// `session_token`.
enum SessionFlavor: String, Sendable {
    case v1, v2
}

/// A checkout session and what the sandbox needs beside its wire form.
struct SessionRecord: Sendable {
    var session: CheckoutSession
    var flavor: SessionFlavor
    /// When `session_token` stops opening the widget (v1).
    var tokenExpiresAt: Date?
    /// Creation order, for lists (newest first) and cursors.
    var sequence: Int
    /// The latest payment attempt; shown as `payment_resource.payment_intent`.
    var paymentIntentID: String?
}

/// A payment intent and its links: the session it pays (if any) and when a pending test
/// payment settles by itself.
struct IntentRecord: Sendable {
    var intent: PaymentIntent
    var sessionID: String?
    var tokenExpiresAt: Date?
    /// A pending payment made with a "completes after a few seconds" test value settles then.
    var settleAt: Date?
    var sequence: Int
}

/// A customer (Customers API v2), made by `POST /v2/customers` or a session's `customer_data`.
struct CustomerRecord: Sendable {
    var customer: FintocCustomer
    /// Creation order, for lists (newest first) and cursors.
    var sequence: Int
}

struct EndpointRecord: Sendable {
    var endpoint: WebhookEndpoint
    /// Kept apart from `endpoint`, whose `secret` is shown only in the create response.
    var secret: String
    var sequence: Int

    func subscribes(to type: String) -> Bool {
        endpoint.status != .disabled && (endpoint.enabledEvents.contains("*") || endpoint.enabledEvents.contains(type))
    }
}

struct RefundRecord: Sendable {
    var refund: Refund
    var settleAt: Date?
    var sequence: Int
}

/// What a test (through `/sandbox/complete`) or a customer (through the hosted page) makes of a
/// payment.
public enum Outcome: String, Sendable, CaseIterable, Codable {
    case succeeded, failed, rejected, pending
    case requiresAction = "requires_action"
    case expired

    var intentStatus: PaymentIntent.Status { .init(rawValue: rawValue) }

    var eventType: Event.EventType { .init(rawValue: "payment_intent.\(rawValue)") }

    /// The reason Fintoc gives when a test does not name one.
    var defaultErrorReason: String? {
        switch self {
        case .failed: "insufficient_funds"
        case .rejected: "mfa_invalid_authorization"
        default: nil
        }
    }

    /// A payment left like this ends the session (`checkout_session.finished`); a failed or
    /// rejected attempt leaves the session open for another try, as Fintoc's hosted page does.
    var finishesSession: Bool {
        switch self {
        case .succeeded, .pending, .requiresAction: true
        case .failed, .rejected, .expired: false
        }
    }
}

/// One attempt to deliver one event to one endpoint, as `GET /sandbox/deliveries` shows it.
public struct DeliveryRecord: Sendable, Codable, Hashable {
    public var id: String
    public var eventID: String
    public var eventType: String
    public var endpointID: String
    public var url: String
    /// 1 for the first try of a copy; grows with each retry.
    public var attempt: Int
    /// Which copy this is when the `duplicate` fault sends an event more than once (1-based).
    public var copy: Int
    public var statusCode: Int?
    public var error: String?
    public var succeeded: Bool
    public var signature: String?
    public var attemptedAt: Date
    public var nextRetryAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, url, attempt, copy, error, succeeded, signature
        case eventID = "event_id"
        case eventType = "event_type"
        case endpointID = "endpoint_id"
        case statusCode = "status_code"
        case attemptedAt = "attempted_at"
        case nextRetryAt = "next_retry_at"
    }
}

/// Events from one state change, handed to the dispatcher together (so the shuffle fault has
/// something to reorder), optionally for one endpoint only (the endpoint `test` call).
struct EventBatch: Sendable {
    var events: [Event]
    var onlyEndpointID: String?
}

/// A customer who logged in to a test bank on the hosted page or the widget, until they pay.
struct LoginTicket: Sendable {
    var target: PayTarget
    var bank: String
    var username: String
    var createdAt: Date
}

/// What a hosted page or widget collects money for: a session (v1 or v2) or a direct intent.
enum PayTarget: Sendable, Hashable {
    case session(String)
    case intent(String)

    var id: String {
        switch self {
        case .session(let id), .intent(let id): id
        }
    }
}
