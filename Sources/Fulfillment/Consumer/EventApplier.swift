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

/// Applies one domain event through the store's writes for it (`DeliveryWrites`, inside the
/// batch's transaction): marks its id processed, changes the stock, writes the customer's email
/// row and the worker's own event, all or nothing. This type decides what an event does; the
/// store knows how that is written.
///
/// What does not depend on the database (the likely email, the confirmation event) is prepared
/// beforehand by the task that reads the queue, so the single writer spends its time on SQL.
struct EventApplier: Sendable {
    let composer: NotificationComposer

    /// Effects worth a metric beyond the outcome.
    struct Result {
        var outcome: ApplyOutcome
        var emailQueued = false
        var eventQueued = false
    }

    /// Work done ahead of the transaction, used when the transaction's decision matches it.
    struct Prepared: Sendable {
        /// The email this event sends unless the database says otherwise (an order already
        /// sold, a backorder).
        var email: NotificationComposer.Rendered?
        /// For `payment.succeeded`: the `order.confirmed` event, if the sale is covered.
        var confirmation: OutgoingEvent?
    }

    struct OutgoingEvent: Sendable {
        var id: String
        var type: String
        var body: Data
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

    func apply(_ envelope: EventEnvelope, prepared: Prepared, _ writes: DeliveryWrites) throws -> Result {
        let order = envelope.event.payload.order
        let key = OrderKey(order)
        let now = writes.now
        guard try writes.claimMessage(id: envelope.id, type: envelope.type.rawValue, order: key) else { return Result(outcome: .duplicate) }

        var result: Result
        switch envelope.event {
        case .checkoutCreated(let data):
            let outcome = try writes.placeHolds(order: data.order, checkout: data.checkout.id, expiresAt: data.checkout.expiresAt ?? now)
            result = Result(outcome: outcome == .held ? .held : outcome == .notHeld ? .notHeld : .recorded)
        case .paymentSucceeded(let data):
            result = try paid(data, prepared: prepared, writes)
        case .paymentFailed(let data):
            try writes.release(order: key, checkout: data.checkout.id, outcome: "failed")
            result = Result(outcome: .released)
            if try !writes.isSold(key) {
                let email =
                    prepared.email
                    ?? composer.render(
                        kind: .paymentFailed, order: data.order, values: Self.orderValues(data.order, payment: data.payment), now: now)
                result.emailQueued = try writes.queueEmail(email)
            }
        case .paymentPending(let data):
            result = try awaiting(data.order, prepared: prepared, writes)
        case .paymentActionRequired(let data):
            result = try awaiting(data.order, prepared: prepared, writes)
        case .checkoutExpired(let data):
            try writes.release(order: key, checkout: data.checkout.id, outcome: "expired")
            result = Result(outcome: .released)
        case .paymentDuplicate:
            // Money to refund, never to fulfil (the gateway's contract): recorded only.
            result = Result(outcome: .recorded)
        }
        try writes.recordOutcome(result.outcome, messageID: envelope.id)
        return result
    }

    private func paid(_ data: PaymentSucceeded, prepared: Prepared, _ writes: DeliveryWrites) throws -> Result {
        let now = writes.now
        let sale = try writes.sell(order: data.order, checkout: data.checkout.id, paymentID: data.payment.id)
        let event: OutgoingEvent
        let email: NotificationComposer.Rendered
        switch sale {
        case .alreadySold:
            return Result(outcome: .recorded)
        case .confirmed:
            event = try prepared.confirmation ?? Self.outgoing(data, shortfall: [], now: now)
            email =
                prepared.email
                ?? composer.render(
                    kind: .orderConfirmed, order: data.order, values: Self.orderValues(data.order, payment: data.payment), now: now)
        case .backordered(let shortfall):
            event = try Self.outgoing(data, shortfall: shortfall, now: now)
            var values = Self.orderValues(data.order, payment: data.payment)
            let names = Dictionary(data.order.lineItems.map { ($0.sku, $0.name) }, uniquingKeysWith: { first, _ in first })
            values["shortfall"] = shortfall.map { line -> [String: Any] in
                ["name": names[line.sku] ?? line.sku, "quantity": "\(line.quantity)", "missing": "\(line.quantity - line.available)"]
            }
            email = composer.render(kind: .orderBackordered, order: data.order, values: values, now: now)
        }
        try writes.queueEvent(id: event.id, type: event.type, order: OrderKey(data.order), body: event.body)
        let queued = try writes.queueEmail(email)
        let backordered = if case .backordered = sale { true } else { false }
        return Result(outcome: backordered ? .backordered : .sold, emailQueued: queued, eventQueued: true)
    }

    private func awaiting(_ order: OrderSnapshot, prepared: Prepared, _ writes: DeliveryWrites) throws -> Result {
        var result = Result(outcome: .recorded)
        guard try !writes.isSold(OrderKey(order)), let email = prepared.email else { return result }
        result.emailQueued = try writes.queueEmail(email)
        return result
    }

    /// The `order.confirmed` (no shortfall) or `order.backordered` event of a paid order, encoded.
    static func outgoing(_ data: PaymentSucceeded, shortfall: [OrderFulfillment.Shortfall], now: Date) throws -> OutgoingEvent {
        let fulfillment = OrderFulfillment(
            order: data.order, checkoutID: data.checkout.id, paymentID: data.payment.id, mode: data.mode,
            occurredAt: now, shortfall: shortfall)
        let envelope = FulfillmentEnvelope(data: fulfillment, attempt: data.checkout.attempt)
        return OutgoingEvent(id: envelope.id, type: envelope.type.rawValue, body: try envelope.encoded())
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
