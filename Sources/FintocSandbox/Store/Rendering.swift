import Fintoc
import Foundation
import PaymentsCore

/// Objects as the API answers them: the wire types from `Fintoc`, plus the keys Fintoc writes as
/// explicit `null` (the seeds show `error_reason: null`, `session_token: null`, …), which Swift's
/// encoder would leave out.
enum Rendering {
    static func value(_ encodable: some Encodable) -> JSONValue {
        do {
            let data = try FintocJSON.encoder().encode(encodable)
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            preconditionFailure("a wire type failed to encode: \(error)")
        }
    }

    static func data(_ value: some Encodable) -> Data {
        (try? FintocJSON.encoder().encode(value)) ?? Data("{}".utf8)
    }

    static func withNulls(_ value: JSONValue, _ keys: [String], defaults: [String: JSONValue] = [:]) -> JSONValue {
        guard case .object(var object) = value else { return value }
        for key in keys where object[key] == nil { object[key] = .null }
        for (key, fallback) in defaults where object[key] == nil { object[key] = fallback }
        return .object(object)
    }

    static func intent(_ intent: PaymentIntent) -> JSONValue {
        withNulls(
            value(intent),
            [
                "error_reason", "reference_id", "sender_account", "recipient_account", "transaction_date", "widget_token", "customer_email",
                "expires_at",
            ],
            defaults: ["metadata": [:], "business_profile": [:], "payment_type_options": [:]]
        )
    }

    static func session(_ record: SessionRecord, intent: PaymentIntent?) -> JSONValue {
        var session = record.session
        session.paymentResource = intent.map { .init(paymentIntent: $0) }
        var rendered = withNulls(
            value(session),
            ["session_token", "redirect_url", "customer_email", "customer", "success_url", "cancel_url", "expires_at", "payment_resource"],
            defaults: ["metadata": [:], "flow": "payment", "business_profile": [:], "payment_method_options": [:]]
        )
        if case .object(var object) = rendered {
            if let intent {
                object["payment_resource"] = ["payment_intent": Rendering.intent(intent)]
                // v1 sessions carry their payment at the top level (seed 003).
                if record.flavor == .v1 { object["payment_intent"] = Rendering.intent(intent) }
            } else if record.flavor == .v1 {
                object["payment_intent"] = .null
            }
            if let customer = session.customer { object["customer"] = Rendering.customer(customer) }
            rendered = .object(object)
        }
        return rendered
    }

    /// The Customer object: fields without a value are `null` (`address` too), `metadata` `{}`.
    static func customer(_ customer: FintocCustomer) -> JSONValue {
        withNulls(
            value(customer), ["name", "email", "phone", "address", "tax_id", "created_at"], defaults: ["metadata": [:], "mode": "test"])
    }

    static func endpoint(_ record: EndpointRecord, showSecret: Bool) -> JSONValue {
        var endpoint = record.endpoint
        endpoint.secret = showSecret ? record.secret : nil
        return withNulls(value(endpoint), ["description"], defaults: ["metadata": [:]])
    }

    static func refund(_ refund: Refund) -> JSONValue {
        withNulls(value(refund), [], defaults: ["metadata": [:]])
    }
}
