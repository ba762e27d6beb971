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
struct EventApplier: Sendable {
    let composer: NotificationComposer

    /// Effects worth a metric beyond the outcome.
    struct Result {
        var outcome: ApplyOutcome
        var emailQueued = false
        var eventQueued = false
    }

    func apply(_ envelope: EventEnvelope, _ db: Database, now: Date) throws -> Result {
        let order = envelope.event.payload.order
        let claimed = try db.cachedStatement(sql: """
            INSERT INTO processed_message (id, type, order_id, outcome, processed_at) VALUES (?, ?, ?, '', ?)
            ON CONFLICT(id) DO NOTHING
            """)
        try claimed.execute(arguments: [envelope.id, envelope.type.rawValue, order.id.rawValue, now])
        guard db.changesCount > 0 else { return Result(outcome: .duplicate) }

        var result: Result
        switch envelope.event {
        case .checkoutCreated(let data):
            let outcome = try StockLedger.placeHolds(db, order: data.order, checkout: data.checkout.id,
                                                     expiresAt: data.checkout.expiresAt ?? now, now: now)
            result = Result(outcome: outcome == .held ? .held : outcome == .notHeld ? .notHeld : .recorded)
        case .paymentSucceeded(let data):
            result = try paid(data, envelope: envelope, db, now: now)
        case .paymentFailed(let data):
            try StockLedger.release(db, order: data.order.id, checkout: data.checkout.id, outcome: "failed", now: now)
            result = Result(outcome: .released)
            if try !StockLedger.isSold(db, order: data.order.id) {
                var values = NotificationComposer.orderValues(data.order, paymentReference: data.payment.id)
                if let reason = data.payment.reason {
                    values["reason"] = reason
                    values["has_reason"] = true
                }
                result.emailQueued = try composer.enqueue(db, kind: .paymentFailed, order: data.order, values: values, now: now)
            }
        case .paymentPending(let data):
            result = try awaiting(data.order, payment: data.payment, actionRequired: false, db, now: now)
        case .paymentActionRequired(let data):
            result = try awaiting(data.order, payment: data.payment, actionRequired: true, db, now: now)
        case .checkoutExpired(let data):
            try StockLedger.release(db, order: data.order.id, checkout: data.checkout.id, outcome: "expired", now: now)
            result = Result(outcome: .released)
        case .paymentDuplicate:
            // Money to refund, never to fulfil (the gateway's contract): recorded only.
            result = Result(outcome: .recorded)
        }
        try db.cachedStatement(sql: "UPDATE processed_message SET outcome = ? WHERE id = ?").execute(arguments: [result.outcome.rawValue, envelope.id])
        return result
    }

    private func paid(_ data: PaymentSucceeded, envelope: EventEnvelope, _ db: Database, now: Date) throws -> Result {
        let sale = try StockLedger.sell(db, order: data.order, checkout: data.checkout.id, paymentID: data.payment.id, now: now)
        let shortfall: [OrderFulfillment.Shortfall]
        switch sale {
        case .alreadySold: return Result(outcome: .recorded)
        case .confirmed: shortfall = []
        case .backordered(let lines): shortfall = lines
        }
        let fulfillment = OrderFulfillment(order: data.order, checkoutID: data.checkout.id, paymentID: data.payment.id,
                                           mode: data.mode, occurredAt: now, shortfall: shortfall)
        let event = FulfillmentEnvelope(data: fulfillment, attempt: data.checkout.attempt)
        try db.cachedStatement(sql: """
            INSERT INTO event_outbox (event_id, type, order_id, body, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """).execute(arguments: [event.id, event.type.rawValue, data.order.id.rawValue, try event.encoded(), now])
        var values = NotificationComposer.orderValues(data.order, paymentReference: data.payment.id)
        let kind: NotificationKind
        if shortfall.isEmpty {
            kind = .orderConfirmed
        } else {
            kind = .orderBackordered
            let names = Dictionary(data.order.lineItems.map { ($0.sku, $0.name) }, uniquingKeysWith: { first, _ in first })
            values["shortfall"] = shortfall.map { line -> [String: Any] in
                ["name": names[line.sku] ?? line.sku, "quantity": "\(line.quantity)", "missing": "\(line.quantity - line.available)"]
            }
        }
        let queued = try composer.enqueue(db, kind: kind, order: data.order, values: values, now: now)
        return Result(outcome: shortfall.isEmpty ? .sold : .backordered, emailQueued: queued, eventQueued: true)
    }

    private func awaiting(_ order: OrderSnapshot, payment: PaymentSnapshot, actionRequired: Bool, _ db: Database, now: Date) throws -> Result {
        var result = Result(outcome: .recorded)
        guard try !StockLedger.isSold(db, order: order.id) else { return result }
        var values = NotificationComposer.orderValues(order, paymentReference: payment.id)
        if actionRequired { values["action_required"] = true }
        result.emailQueued = try composer.enqueue(db, kind: .paymentAwaiting, order: order, values: values, now: now)
        return result
    }
}
