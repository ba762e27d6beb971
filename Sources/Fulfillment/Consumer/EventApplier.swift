import Foundation
import PaymentsCore

/// What applying one message did; the label of `worker_messages_total{outcome}`.
public enum ApplyOutcome: String, Sendable, Hashable {
    /// The message id was processed before: nothing changed.
    case duplicate
    case held
    /// `checkout.created` whose lines could not all be held (the sale is decided at payment).
    case notHeld = "not_held"
    case sold
    case backordered
    case released
    /// Recorded with no stock effect (pending, action required, duplicate payment, late events
    /// for a paid order, a checkout that lapsed before its event arrived).
    case recorded
}

/// Decides what one domain event asks of the store (a `DeliveryPlan`): hold, sell, release,
/// email or only record, with the email and the worker's own event it may need. The store
/// carries the plan out inside the batch's transaction, all or nothing (its inbox row, the stock,
/// the email row, the outgoing event). This type decides what an event does; the store knows
/// how that is written, on either engine.
///
/// What does not depend on the database (the likely email, the confirmation event) is prepared
/// beforehand by the task that reads the queue, so the writer spends its time on SQL.
struct EventApplier: Sendable {
    let composer: NotificationComposer

    /// Work done ahead of the transaction, used when the transaction's decision matches it.
    struct Prepared: Sendable {
        /// The email this event sends unless the database says otherwise (an order already
        /// sold, a backorder).
        var email: NotificationComposer.Rendered?
        /// For `payment.succeeded`: the `order.confirmed` event, if the sale is covered.
        var confirmation: DeliveryPlan.OutgoingEvent?
    }

    func prepare(_ envelope: EventEnvelope, now: Date) -> Prepared {
        switch envelope.event {
        case .paymentSucceeded(let data):
            return Prepared(
                email: composer.render(
                    kind: .orderConfirmed, order: data.order, values: Self.orderValues(data.order, payment: data.payment), now: now),
                confirmation: try? Self.outgoing(data, shortfall: [], now: now)
            )
        case .paymentFailed(let data):
            return Prepared(
                email: composer.render(
                    kind: .paymentFailed, order: data.order, values: Self.orderValues(data.order, payment: data.payment), now: now))
        case .paymentPending(let data):
            return Prepared(
                email: composer.render(
                    kind: .paymentAwaiting, order: data.order, values: Self.orderValues(data.order, payment: data.payment), now: now))
        case .paymentActionRequired(let data):
            var values = Self.orderValues(data.order, payment: data.payment)
            values["action_required"] = true
            // Fintoc's own words for what to do; without them the email keeps its generic text.
            if let message = data.payment.nextAction?.message {
                values["action_message"] = message
                values["has_action_message"] = true
            }
            return Prepared(email: composer.render(kind: .paymentAwaiting, order: data.order, values: values, now: now))
        case .checkoutCreated, .checkoutExpired, .paymentDuplicate:
            return Prepared()
        }
    }

    /// The store's work for `envelope`, given what `prepare` made of it.
    func plan(_ envelope: EventEnvelope, prepared: Prepared) -> DeliveryPlan {
        let action: DeliveryPlan.Action
        switch envelope.event {
        case .checkoutCreated(let data):
            // A checkout without an expiry holds nothing: its hold would lapse at once.
            action = .hold(checkout: data.checkout.id, expiresAt: data.checkout.expiresAt ?? .distantPast)
        case .paymentSucceeded(let data):
            let composer = composer
            action = .sell(checkout: data.checkout.id, paymentID: data.payment.id) { sale, now in
                try Self.followUp(sale, data, prepared: prepared, composer: composer, now: now)
            }
        case .paymentFailed(let data):
            let email =
                prepared.email
                ?? composer.render(
                    kind: .paymentFailed, order: data.order, values: Self.orderValues(data.order, payment: data.payment), now: Date())
            action = .release(checkout: data.checkout.id, outcome: "failed", emailUnlessSold: email)
        case .paymentPending, .paymentActionRequired:
            action = .emailUnlessSold(prepared.email)
        case .checkoutExpired(let data):
            action = .release(checkout: data.checkout.id, outcome: "expired", emailUnlessSold: nil)
        case .paymentDuplicate:
            // Money to refund, never to fulfil (the gateway's contract): recorded only.
            action = .record
        }
        return DeliveryPlan(messageID: envelope.id, type: envelope.type.rawValue, order: envelope.event.payload.order, action: action)
    }

    /// What a sale announces: `order.confirmed` with the confirmation email, or
    /// `order.backordered` with an email naming what is missing; nothing for an order sold before.
    private static func followUp(
        _ sale: StockLedger.SaleOutcome, _ data: PaymentSucceeded, prepared: Prepared, composer: NotificationComposer, now: Date
    ) throws -> DeliveryPlan.FollowUp? {
        switch sale {
        case .alreadySold:
            return nil
        case .confirmed:
            let email =
                prepared.email
                ?? composer.render(
                    kind: .orderConfirmed, order: data.order, values: orderValues(data.order, payment: data.payment), now: now)
            return .init(event: try prepared.confirmation ?? outgoing(data, shortfall: [], now: now), email: email)
        case .backordered(let shortfall):
            var values = orderValues(data.order, payment: data.payment)
            let names = Dictionary(data.order.lineItems.map { ($0.sku, $0.name) }, uniquingKeysWith: { first, _ in first })
            values["shortfall"] = shortfall.map { line -> [String: Any] in
                ["name": names[line.sku] ?? line.sku, "quantity": "\(line.quantity)", "missing": "\(line.quantity - line.available)"]
            }
            return .init(
                event: try outgoing(data, shortfall: shortfall, now: now),
                email: composer.render(kind: .orderBackordered, order: data.order, values: values, now: now))
        }
    }

    /// The `order.confirmed` (no shortfall) or `order.backordered` event of a paid order, encoded.
    static func outgoing(_ data: PaymentSucceeded, shortfall: [OrderFulfillment.Shortfall], now: Date) throws -> DeliveryPlan.OutgoingEvent
    {
        let fulfillment = OrderFulfillment(
            order: data.order, checkoutID: data.checkout.id, paymentID: data.payment.id, mode: data.mode,
            occurredAt: now, shortfall: shortfall)
        let envelope = FulfillmentEnvelope(data: fulfillment, attempt: data.checkout.attempt)
        return DeliveryPlan.OutgoingEvent(id: envelope.id, type: envelope.type.rawValue, body: try envelope.encoded())
    }

    /// Template values describing the order's lines and payment (and its failure reason).
    static func orderValues(_ order: OrderSnapshot, payment: PaymentSnapshot) -> [String: Any] {
        var values = NotificationComposer.orderValues(order, paymentReference: payment.id)
        if let reason = payment.reason {
            values["reason"] = reason
            values["has_reason"] = true
        }
        return values
    }
}
