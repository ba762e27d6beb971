import Foundation
import GRDB
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

/// Applies one domain event inside the caller's transaction: marks its id processed, changes
/// the stock, writes the customer's email row and the worker's own event, all or nothing.
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
                email: composer.render(kind: .orderConfirmed, order: data.order, values: Self.orderValues(data.order, payment: data.payment), now: now),
                confirmation: try? Self.outgoing(data, shortfall: [], now: now)
            )
        case .paymentFailed(let data):
            return Prepared(email: composer.render(kind: .paymentFailed, order: data.order, values: Self.orderValues(data.order, payment: data.payment), now: now))
        case .paymentPending(let data):
            return Prepared(email: composer.render(kind: .paymentAwaiting, order: data.order, values: Self.orderValues(data.order, payment: data.payment), now: now))
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

    func apply(_ envelope: EventEnvelope, prepared: Prepared, _ db: Database, now: SQLTime) throws -> Result {
        let order = envelope.event.payload.order
        let claimed = try db.cachedStatement(sql: """
            INSERT INTO processed_message (id, type, storefront, order_id, outcome, processed_at) VALUES (?, ?, ?, ?, '', ?)
            ON CONFLICT(id) DO NOTHING
            """)
        let key = OrderKey(order)
        try claimed.execute(arguments: [envelope.id, envelope.type.rawValue, key.storefront, key.id, now])
        guard db.changesCount > 0 else { return Result(outcome: .duplicate) }

        var result: Result
        switch envelope.event {
        case .checkoutCreated(let data):
            let outcome = try StockLedger.placeHolds(db, order: data.order, checkout: data.checkout.id,
                                                     expiresAt: data.checkout.expiresAt ?? now.date, now: now)
            result = Result(outcome: outcome == .held ? .held : outcome == .notHeld ? .notHeld : .recorded)
        case .paymentSucceeded(let data):
            result = try paid(data, prepared: prepared, db, now: now)
        case .paymentFailed(let data):
            try StockLedger.release(db, order: key, checkout: data.checkout.id, outcome: "failed", now: now)
            result = Result(outcome: .released)
            if try !StockLedger.isSold(db, order: key) {
                let email = prepared.email
                    ?? composer.render(kind: .paymentFailed, order: data.order, values: Self.orderValues(data.order, payment: data.payment), now: now.date)
                result.emailQueued = try composer.insert(db, email, now: now)
            }
        case .paymentPending(let data):
            result = try awaiting(data.order, prepared: prepared, db, now: now)
        case .paymentActionRequired(let data):
            result = try awaiting(data.order, prepared: prepared, db, now: now)
        case .checkoutExpired(let data):
            try StockLedger.release(db, order: key, checkout: data.checkout.id, outcome: "expired", now: now)
            result = Result(outcome: .released)
        case .paymentDuplicate:
            // Money to refund, never to fulfil (the gateway's contract): recorded only.
            result = Result(outcome: .recorded)
        }
        try db.cachedStatement(sql: "UPDATE processed_message SET outcome = ? WHERE id = ?").execute(arguments: [result.outcome.rawValue, envelope.id])
        return result
    }

    private func paid(_ data: PaymentSucceeded, prepared: Prepared, _ db: Database, now: SQLTime) throws -> Result {
        let sale = try StockLedger.sell(db, order: data.order, checkout: data.checkout.id, paymentID: data.payment.id, now: now)
        let event: OutgoingEvent
        let email: NotificationComposer.Rendered
        switch sale {
        case .alreadySold:
            return Result(outcome: .recorded)
        case .confirmed:
            event = try prepared.confirmation ?? Self.outgoing(data, shortfall: [], now: now.date)
            email = prepared.email
                ?? composer.render(kind: .orderConfirmed, order: data.order, values: Self.orderValues(data.order, payment: data.payment), now: now.date)
        case .backordered(let shortfall):
            event = try Self.outgoing(data, shortfall: shortfall, now: now.date)
            var values = Self.orderValues(data.order, payment: data.payment)
            let names = Dictionary(data.order.lineItems.map { ($0.sku, $0.name) }, uniquingKeysWith: { first, _ in first })
            values["shortfall"] = shortfall.map { line -> [String: Any] in
                ["name": names[line.sku] ?? line.sku, "quantity": "\(line.quantity)", "missing": "\(line.quantity - line.available)"]
            }
            email = composer.render(kind: .orderBackordered, order: data.order, values: values, now: now.date)
        }
        try db.cachedStatement(sql: """
            INSERT INTO event_outbox (event_id, type, storefront, order_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """).execute(arguments: [event.id, event.type, data.order.storefront?.rawValue ?? "", data.order.id.rawValue, event.body, now])
        let queued = try composer.insert(db, email, now: now)
        let backordered = if case .backordered = sale { true } else { false }
        return Result(outcome: backordered ? .backordered : .sold, emailQueued: queued, eventQueued: true)
    }

    private func awaiting(_ order: OrderSnapshot, prepared: Prepared, _ db: Database, now: SQLTime) throws -> Result {
        var result = Result(outcome: .recorded)
        guard try !StockLedger.isSold(db, order: OrderKey(order)), let email = prepared.email else { return result }
        result.emailQueued = try composer.insert(db, email, now: now)
        return result
    }

    /// The `order.confirmed` (no shortfall) or `order.backordered` event of a paid order, encoded.
    static func outgoing(_ data: PaymentSucceeded, shortfall: [OrderFulfillment.Shortfall], now: Date) throws -> OutgoingEvent {
        let fulfillment = OrderFulfillment(order: data.order, checkoutID: data.checkout.id, paymentID: data.payment.id, mode: data.mode,
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
