import Fintoc
import Foundation
import PaymentsCore

/// A Fintoc event read once from its raw bytes, reduced to what the state machine needs: which
/// objects it names and the facts it states.
///
/// The table (also in the README and `schemas/asyncapi.yaml`):
///
/// | Fintoc event | Fact | Domain event |
/// |---|---|---|
/// | `payment_intent.requires_action` | payment requires action | `payment.action_required` (with `next_action`) |
/// | `payment_intent.pending` | payment pending | `payment.pending` |
/// | `payment_intent.succeeded` | payment succeeded | `payment.succeeded` (`payment.duplicate` if the order was already paid) |
/// | `payment_intent.failed`, `.rejected` | payment failed | `payment.failed` |
/// | `payment_intent.expired` | payment expired | `checkout.expired` for a widget payment intent; none for a session's attempt |
/// | `checkout_session.finished` | its `payment_resource.payment_intent` status, as above | the same event as the payment's own, once |
/// | `checkout_session.expired` | checkout expired | `checkout.expired` |
/// | anything else (refunds, new types) | none | none: stored and counted |
struct NormalisedEvent: Sendable {
    var id: String
    var type: String
    var mode: String?
    var occurredAt: Date?
    /// The object the event is about (`cs_…`, `pi_…`, `re_…`).
    var objectID: String?
    var sessionID: String?
    var intentID: String?
    /// Our checkout id from the object's metadata (`cobro_checkout_id`), when present.
    var checkoutHint: String?
    var amount: Int64?
    var currency: String?
    var facts: [PaymentFact]
    /// A finished session that names no payment: only Fintoc, re-read, can say how it ended.
    var needsReread = false

    /// Whether the gateway acts on this type at all.
    var isActionable: Bool { !facts.isEmpty || needsReread }
}

enum WebhookNormaliser {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads `body` (already verified) into a normalised event; throws only when it is not a
    /// Fintoc event at all (no id or type).
    static func normalise(_ body: Data) throws(Malformed) -> NormalisedEvent {
        let payload: EventPayload
        do {
            payload = try decoder.decode(EventPayload.self, from: body)
        } catch {
            throw Malformed(description: "the body is not a Fintoc event: \(Self.summary(of: error))")
        }
        guard !payload.id.isEmpty, payload.id.count <= 255, !payload.type.isEmpty, payload.type.count <= 100 else {
            throw Malformed(description: "the event's id and type must be non-empty strings of sane length")
        }
        return normalise(payload)
    }

    static func normalise(_ payload: EventPayload) -> NormalisedEvent {
        var event = NormalisedEvent(
            id: payload.id, type: payload.type, mode: payload.mode, occurredAt: payload.createdAt,
            objectID: payload.data?.id, checkoutHint: payload.data?.checkoutHint, amount: payload.data?.amount,
            currency: payload.data?.currency?.uppercased(), facts: []
        )
        guard let data = payload.data, let objectID = data.id else { return event }
        let parts = payload.type.split(separator: ".", maxSplits: 1)
        guard parts.count == 2 else { return event }
        switch parts[0] {
        case "payment_intent":
            guard let status = PaymentStatus(rawValue: String(parts[1])) else { return event }
            event.intentID = objectID
            event.facts = [.payment(id: objectID, status: status, reason: data.errorReason, nextAction: data.nextAction)]
        case "checkout_session":
            event.sessionID = objectID
            let intent = data.paymentResource?.paymentIntent
            event.intentID = intent?.id
            let paymentFact = intent.flatMap { intent -> PaymentFact? in
                guard let status = intent.status.flatMap(PaymentStatus.init(rawValue:)) else { return nil }
                return .payment(id: intent.id, status: status, reason: intent.errorReason, nextAction: intent.nextAction)
            }
            switch parts[1] {
            case "finished":
                event.facts = [.sessionFinished] + (paymentFact.map { [$0] } ?? [])
                event.needsReread = paymentFact == nil
            case "expired":
                event.facts = (paymentFact.map { [$0] } ?? []) + [.sessionExpired]
            default:
                break
            }
        default:
            break
        }
        return event
    }

    static let decoder = FintocJSON.decoder()

    private static func summary(of error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            context.codingPath.isEmpty ? "not a JSON object" : "bad \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "not JSON"
        }
    }
}

/// The parts of Fintoc's event envelope the gateway reads, decoded in one pass over the bytes.
/// Unknown fields are ignored; fields the gateway can do without are optional.
struct EventPayload: Decodable, Sendable {
    var id: String
    var type: String
    var mode: String?
    var createdAt: Date?
    var data: ObjectPayload?

    enum CodingKeys: String, CodingKey {
        case id, type, mode, data
        case createdAt = "created_at"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        type = try container.decode(String.self, forKey: .type)
        mode = try? container.decodeIfPresent(String.self, forKey: .mode)
        createdAt = try? container.decodeIfPresent(Date.self, forKey: .createdAt)
        // An object the gateway cannot read still leaves a stored, acknowledged event.
        data = try? container.decodeIfPresent(ObjectPayload.self, forKey: .data)
    }
}

/// A payment intent or checkout session, as much as the state machine needs.
struct ObjectPayload: Decodable, Sendable {
    var id: String?
    var status: String?
    var amount: Int64?
    var currency: String?
    var errorReason: String?
    /// A payment intent's `next_action`, as much of it as the event contract carries.
    var nextAction: NextAction?
    var checkoutHint: String?
    var paymentResource: PaymentResourcePayload?

    enum CodingKeys: String, CodingKey {
        case id, status, amount, currency, metadata
        case errorReason = "error_reason"
        case nextAction = "next_action"
        case paymentResource = "payment_resource"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try? container.decodeIfPresent(String.self, forKey: .id)
        status = try? container.decodeIfPresent(String.self, forKey: .status)
        amount = try? container.decodeIfPresent(Int64.self, forKey: .amount)
        currency = try? container.decodeIfPresent(String.self, forKey: .currency)
        errorReason = try? container.decodeIfPresent(String.self, forKey: .errorReason)
        nextAction = NextAction.reading(container, forKey: .nextAction)
        let metadata = try? container.decodeIfPresent([String: JSONValue].self, forKey: .metadata)
        if case .string(let hint)? = metadata?[FintocMapping.checkoutKey] { checkoutHint = hint }
        paymentResource = try? container.decodeIfPresent(PaymentResourcePayload.self, forKey: .paymentResource)
    }
}

struct PaymentResourcePayload: Decodable, Sendable {
    var paymentIntent: IntentPayload?

    enum CodingKeys: String, CodingKey {
        case paymentIntent = "payment_intent"
    }
}

/// The payment intent a checkout session carries.
struct IntentPayload: Decodable, Sendable {
    var id: String
    var status: String?
    var errorReason: String?
    var nextAction: NextAction?

    enum CodingKeys: String, CodingKey {
        case id, status
        case errorReason = "error_reason"
        case nextAction = "next_action"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        status = try container.decodeIfPresent(String.self, forKey: .status)
        errorReason = try container.decodeIfPresent(String.self, forKey: .errorReason)
        nextAction = NextAction.reading(container, forKey: .nextAction)
    }
}

extension NextAction {
    /// Fintoc's `next_action` at `key`, kept within the contract's limits; nil when absent or
    /// unusable (not an object, no usable `type`). Never throws: an odd `next_action` does not
    /// make the payment's status any less of a fact.
    static func reading<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, forKey key: Key) -> NextAction? {
        guard let object = try? container.decodeIfPresent([String: JSONValue].self, forKey: key) else { return nil }
        return NextAction(reading: object)
    }
}
