import Foundation
import GRDB
import PaymentsCore

extension SQLiteFulfillmentStore {
    /// `FulfillmentEngine.apply`: one write transaction (one commit, one fsync, for the whole
    /// batch), each plan in a savepoint of its own. Every plan sees the same "now", taken when
    /// the writer starts the transaction.
    func apply(_ plans: [DeliveryPlan]) async throws -> [Result<DeliveryResult, any Error>] {
        try await pool.write { db in
            let now = SQLTime(Date())
            var results: [Result<DeliveryResult, any Error>] = []
            results.reserveCapacity(plans.count)
            for plan in plans {
                do {
                    var result = DeliveryResult(outcome: .duplicate)
                    try db.inSavepoint {
                        result = try Self.carryOut(plan, db, now: now)
                        return .commit
                    }
                    results.append(.success(result))
                } catch {
                    results.append(.failure(error))
                }
            }
            return results
        }
    }

    /// The steps of `DeliveryPlan`, in its order; `PostgresFulfillmentStore.carryOut` is the
    /// same sequence with PostgreSQL's statements.
    private static func carryOut(_ plan: DeliveryPlan, _ db: Database, now: SQLTime) throws -> DeliveryResult {
        let key = plan.key
        guard try claimMessage(db, id: plan.messageID, type: plan.type, order: key, now: now) else {
            return DeliveryResult(outcome: .duplicate)
        }
        var result: DeliveryResult
        switch plan.action {
        case .hold(let checkout, let expiresAt):
            let held = try SQLiteStockLedger.placeHolds(db, order: plan.order, checkout: checkout, expiresAt: expiresAt, now: now)
            result = DeliveryResult(outcome: ApplyOutcome(held))
        case .sell(let checkout, let paymentID, let followUp):
            let sale = try SQLiteStockLedger.sell(db, order: plan.order, checkout: checkout, paymentID: paymentID, now: now)
            result = DeliveryResult(outcome: ApplyOutcome(sale))
            if let next = try followUp(sale, now.date) {
                try queueEvent(db, next.event, order: key, now: now)
                result.eventQueued = true
                result.emailQueued = try queueEmail(db, next.email, now: now)
            }
        case .release(let checkout, let outcome, let email):
            try SQLiteStockLedger.release(db, order: key, checkout: checkout, outcome: outcome, now: now)
            result = DeliveryResult(outcome: .released)
            if let email, try !SQLiteStockLedger.isSold(db, order: key) {
                result.emailQueued = try queueEmail(db, email, now: now)
            }
        case .emailUnlessSold(let email):
            result = DeliveryResult(outcome: .recorded)
            if let email, try !SQLiteStockLedger.isSold(db, order: key) {
                result.emailQueued = try queueEmail(db, email, now: now)
            }
        case .record:
            result = DeliveryResult(outcome: .recorded)
        }
        try db.cachedStatement(sql: "UPDATE processed_message SET outcome = ? WHERE id = ?").execute(arguments: [
            result.outcome.rawValue, plan.messageID,
        ])
        return result
    }

    /// Writes the message's processed row (outcome still empty); false when a row with its id
    /// exists, i.e. the message was applied before and must change nothing.
    private static func claimMessage(_ db: Database, id: String, type: String, order: OrderKey, now: SQLTime) throws -> Bool {
        let claimed = try db.cachedStatement(
            sql: """
                INSERT INTO processed_message (id, type, storefront, order_id, outcome, processed_at) VALUES (?, ?, ?, ?, '', ?)
                ON CONFLICT(id) DO NOTHING
                """)
        try claimed.execute(arguments: [id, type, order.storefront, order.id, now])
        return db.changesCount > 0
    }

    /// Adds the email to the notification outbox unless the order already has one of its kind;
    /// returns whether it did. The message was rendered once, so every resend carries the same
    /// bytes and the same `Message-ID`.
    private static func queueEmail(_ db: Database, _ email: NotificationComposer.Rendered, now: SQLTime) throws -> Bool {
        try db.cachedStatement(
            sql: """
                INSERT INTO notification (storefront, order_id, kind, recipient, message_id, subject, message, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """
        ).execute(arguments: [
            email.order.storefront, email.order.id, email.kind.rawValue, email.recipient, email.messageID, email.subject, email.message,
            now, now,
        ])
        return db.changesCount > 0
    }

    /// Adds one of the worker's own events to the event outbox, for the relay to publish after
    /// this transaction commits; an event id already there is left as it is.
    private static func queueEvent(_ db: Database, _ event: DeliveryPlan.OutgoingEvent, order: OrderKey, now: SQLTime) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO event_outbox (event_id, type, storefront, order_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """
        ).execute(arguments: [event.id, event.type, order.storefront, order.id, event.body, now])
    }
}
