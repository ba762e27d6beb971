import Foundation
import GRDB
import PaymentsCore

extension FulfillmentStore {
    /// Applies a batch of deliveries in ONE write transaction (one commit, one fsync, for the
    /// whole batch), each item in a savepoint of its own: `apply` gets the writes of one message
    /// (its processed-message row, the stock change, the email row, the outgoing event), and
    /// when it throws, only that message's writes are rolled back and its error is returned in
    /// its place while the others still commit (docs/architecture.md rule 7).
    ///
    /// Every item of one batch sees the same "now", taken when the writer starts the
    /// transaction. When the commit itself fails this throws, and nothing of the batch is stored.
    func applyDeliveries<Item: Sendable, Applied: Sendable>(
        _ items: [Item], _ apply: @escaping @Sendable (Item, DeliveryWrites) throws -> Applied
    ) async throws -> [(item: Item, result: Result<Applied, any Error>)] {
        try await pool.write { db in
            let writes = DeliveryWrites(db: db, time: SQLTime(Date()))
            var results: [(item: Item, result: Result<Applied, any Error>)] = []
            results.reserveCapacity(items.count)
            for item in items {
                do {
                    var applied: Applied?
                    try db.inSavepoint {
                        applied = try apply(item, writes)
                        return .commit
                    }
                    if let applied { results.append((item, .success(applied))) }
                } catch {
                    results.append((item, .failure(error)))
                }
            }
            return results
        }
    }
}

/// The writes one message may make, inside the batch's transaction and its own savepoint: the
/// named steps of "apply this delivery" that the event handling decides between. Valid only
/// inside the `applyDeliveries` call that handed it out.
struct DeliveryWrites {
    fileprivate let db: Database
    /// The batch's "now", bound once in its database form.
    let time: SQLTime

    var now: Date { time.date }

    /// Writes the message's processed row (outcome still empty); false when a row with its id
    /// exists, i.e. the message was applied before and must change nothing.
    func claimMessage(id: String, type: String, order: OrderKey) throws -> Bool {
        let claimed = try db.cachedStatement(
            sql: """
                INSERT INTO processed_message (id, type, storefront, order_id, outcome, processed_at) VALUES (?, ?, ?, ?, '', ?)
                ON CONFLICT(id) DO NOTHING
                """)
        try claimed.execute(arguments: [id, type, order.storefront, order.id, time])
        return db.changesCount > 0
    }

    /// Records what applying the claimed message did (`worker_messages_total{outcome}`).
    func recordOutcome(_ outcome: ApplyOutcome, messageID: String) throws {
        try db.cachedStatement(sql: "UPDATE processed_message SET outcome = ? WHERE id = ?").execute(arguments: [
            outcome.rawValue, messageID,
        ])
    }

    func isSold(_ order: OrderKey) throws -> Bool {
        try StockLedger.isSold(db, order: order)
    }

    /// Holds every line of a new checkout until `expiresAt`, or nothing (`StockLedger.placeHolds`).
    func placeHolds(order: OrderSnapshot, checkout: CheckoutID, expiresAt: Date) throws -> StockLedger.HoldOutcome {
        try StockLedger.placeHolds(db, order: order, checkout: checkout, expiresAt: expiresAt, now: time)
    }

    /// Sells a paid order from its holds or free stock, or records it backordered (`StockLedger.sell`).
    func sell(order: OrderSnapshot, checkout: CheckoutID, paymentID: String) throws -> StockLedger.SaleOutcome {
        try StockLedger.sell(db, order: order, checkout: checkout, paymentID: paymentID, now: time)
    }

    /// Gives back a checkout's holds and remembers it closed with `outcome`.
    func release(order: OrderKey, checkout: CheckoutID, outcome: String) throws {
        try StockLedger.release(db, order: order, checkout: checkout, outcome: outcome, now: time)
    }

    /// Adds the email to the notification outbox unless the order already has one of its kind;
    /// returns whether it did. The message was rendered once, so every resend carries the same
    /// bytes and the same `Message-ID`.
    @discardableResult
    func queueEmail(_ email: NotificationComposer.Rendered) throws -> Bool {
        try db.cachedStatement(
            sql: """
                INSERT INTO notification (storefront, order_id, kind, recipient, message_id, subject, message, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """
        ).execute(arguments: [
            email.order.storefront, email.order.id, email.kind.rawValue, email.recipient, email.messageID, email.subject, email.message,
            time, time,
        ])
        return db.changesCount > 0
    }

    /// Adds one of the worker's own events to the event outbox, for the relay to publish after
    /// this transaction commits; an event id already there is left as it is.
    func queueEvent(id: String, type: String, order: OrderKey, body: Data) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO event_outbox (event_id, type, storefront, order_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """
        ).execute(arguments: [id, type, order.storefront, order.id, body, time])
    }
}
