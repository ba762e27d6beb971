import AMQP
import Foundation
import PaymentsCore

/// Domain events as the gateway publishes them, for the worker's tests.
enum Events {
    static func order(
        _ id: String, lines: [(sku: String, quantity: Int64)], language: Language = .spanish,
        email: String = "cliente@example.cl", name: String? = "Ana Pérez", currency: Currency = .clp,
        storefront: String? = "tienda"
    ) -> OrderSnapshot {
        let items = lines.map { LineItem(sku: $0.sku, name: "Producto \($0.sku)", quantity: $0.quantity, unitAmount: 10_000) }
        return OrderSnapshot(
            id: try! OrderID(id), storefront: storefront.map { try! StorefrontID($0) },
            amount: items.reduce(0) { $0 + $1.quantity * $1.unitAmount }, currency: currency,
            lineItems: items, customer: Customer(email: email, name: name), language: language
        )
    }

    static func checkout(_ order: OrderSnapshot, attempt: Int = 1, expiresIn: TimeInterval = 600) -> CheckoutSnapshot {
        CheckoutSnapshot(
            id: try! CheckoutID(
                "chk_\(order.storefront.map { $0.rawValue == "tienda" ? "" : "\($0)_" } ?? "v1_")\(order.id.rawValue)_\(attempt)"),
            attempt: attempt, ui: .redirect,
            providerID: "cs_\(order.id.rawValue)", expiresAt: Date().addingTimeInterval(expiresIn))
    }

    static func created(_ order: OrderSnapshot, attempt: Int = 1, expiresIn: TimeInterval = 600) -> DomainEvent {
        .checkoutCreated(
            CheckoutCreated(
                order: order, checkout: checkout(order, attempt: attempt, expiresIn: expiresIn), mode: .test, occurredAt: Date()))
    }

    static func payment(_ order: OrderSnapshot, _ status: PaymentSnapshot.Status, reason: String? = nil) -> PaymentSnapshot {
        PaymentSnapshot(id: "pi_\(order.id.rawValue)", status: status, reason: reason)
    }

    static func succeeded(_ order: OrderSnapshot, attempt: Int = 1) -> DomainEvent {
        .paymentSucceeded(
            PaymentSucceeded(
                order: order, checkout: checkout(order, attempt: attempt), payment: payment(order, .succeeded), mode: .test,
                occurredAt: Date()))
    }

    static func failed(_ order: OrderSnapshot, attempt: Int = 1) -> DomainEvent {
        .paymentFailed(
            PaymentFailed(
                order: order, checkout: checkout(order, attempt: attempt), payment: payment(order, .rejected, reason: "insufficient_funds"),
                mode: .test, occurredAt: Date()))
    }

    static func pending(_ order: OrderSnapshot) -> DomainEvent {
        .paymentPending(
            PaymentPending(order: order, checkout: checkout(order), payment: payment(order, .pending), mode: .test, occurredAt: Date()))
    }

    static func actionRequired(_ order: OrderSnapshot, nextAction: NextAction? = nil) -> DomainEvent {
        var payment = payment(order, .requiresAction)
        payment.nextAction = nextAction
        return .paymentActionRequired(
            PaymentActionRequired(order: order, checkout: checkout(order), payment: payment, mode: .test, occurredAt: Date()))
    }

    static func expired(_ order: OrderSnapshot, attempt: Int = 1) -> DomainEvent {
        .checkoutExpired(CheckoutExpired(order: order, checkout: checkout(order, attempt: attempt), mode: .test, occurredAt: Date()))
    }

    static func duplicate(_ order: OrderSnapshot) -> DomainEvent {
        .paymentDuplicate(
            PaymentDuplicate(
                order: order, checkout: checkout(order, attempt: 2), payment: payment(order, .succeeded), mode: .test, occurredAt: Date()))
    }

    /// The AMQP message the gateway's relay would publish for `event`.
    static func message(_ event: DomainEvent) throws -> OutboundMessage {
        let envelope = EventEnvelope(event: event)
        let values = envelope.messageProperties
        var body = try envelope.encoded()
        if event.payload.order.storefront == nil {
            // What a gateway from before order ids were scoped per storefront published: data
            // version 1, no storefront (the id has none either).
            var json = try JSONSerialization.jsonObject(with: body) as! [String: Any]
            json["dataschema"] = event.type.dataSchema(version: 1)
            body = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        }
        return OutboundMessage(
            exchange: PaymentsTopology.paymentsExchange, routingKey: values.routingKey, body: body,
            properties: BasicProperties(
                contentType: values.contentType, deliveryMode: .persistent, messageID: values.messageID,
                timestamp: envelope.time, type: values.type, appID: values.appID),
            mandatory: true
        )
    }
}
