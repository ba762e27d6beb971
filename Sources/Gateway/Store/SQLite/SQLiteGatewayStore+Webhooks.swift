import Foundation
import GRDB
import PaymentsCore

/// Taking in Fintoc events: the store's side of the webhook path.
///
/// `ingest` writes a group of events in one transaction (group commit: one fsync for many
/// webhooks), each in its own savepoint; `prepareIngest` works an event's plan out on a reader
/// beforehand. What an event does is `WebhookApplier.decide`'s; reading what it decides from and
/// writing what it decided, inside the caller's transaction, is here.
extension SQLiteGatewayStore {
    /// Works out `item`'s plan from a read snapshot, concurrently with other requests, so the
    /// writer only checks it is still current and writes. Nil for a redelivery (the writer
    /// answers it as a duplicate without working it out).
    func prepareIngest(_ item: IngestItem) async throws -> IngestPlan? {
        let event = item.event
        let source = item.source
        let now = item.receivedAt
        return try await pool.read { db -> IngestPlan? in
            if try WebhookApplier.isRecorded(event.id, in: db) { return nil }
            return try WebhookApplier.plan(event, source: source, now: now, in: db)
        }
    }

    /// Applies `items` in one transaction, each inside its own savepoint: one that fails (a bug,
    /// a constraint) is rolled back alone and its result is the error, while the rest commit.
    /// Throws only when the transaction itself fails (disk full, I/O error): then none is stored.
    func ingest(_ items: [IngestItem]) async throws -> [Result<IngestOutcome, any Error>] {
        try await pool.write { db in
            items.map { item -> Result<IngestOutcome, any Error> in
                var outcome: IngestOutcome = .duplicate
                do {
                    try db.inSavepoint {
                        outcome = try WebhookApplier.apply(item, in: db)
                        return .commit
                    }
                    return .success(outcome)
                } catch {
                    return .failure(error)
                }
            }
        }
    }
}

/// The applier's reads and writes, in the caller's transaction: the inbox row, the payment
/// attempts, the checkout and order states and the outbox rows are written together
/// (docs/architecture.md rules 2 to 4). Statements are cached: this runs for every webhook.
extension WebhookApplier {
    static func apply(_ item: IngestItem, in db: Database) throws -> IngestOutcome {
        let event = item.event
        if try isRecorded(event.id, in: db) { return .duplicate }
        let plan: IngestPlan
        if let prepared = item.plan, try isCurrent(prepared, in: db) {
            plan = prepared
        } else {
            plan = try self.plan(event, source: item.source, now: item.receivedAt, in: db)
        }
        let events = try write(plan, now: item.receivedAt, in: db)
        try db.cachedStatement(
            sql: """
                INSERT INTO inbox (id, type, source, object_id, checkout_id, outcome, detail, body, occurred_at, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            event.id, event.type, item.source.rawValue, event.objectID, plan.checkoutID, plan.outcome.rawValue, plan.detail,
            item.body, event.occurredAt, item.receivedAt,
        ])
        if let intentID = plan.learnedIntent, let checkoutID = plan.checkoutID {
            try adoptUnmatched(intentID: intentID, checkoutID: checkoutID, now: item.receivedAt, in: db)
        }
        return .recorded(plan.outcome, checkoutID: plan.checkoutID, events: events, review: plan.review)
    }

    /// Whether the inbox already holds the event `id` (a redelivery).
    static func isRecorded(_ id: String, in db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM inbox WHERE id = ?"), arguments: [id]) == true
    }

    /// Whether the store still holds what `plan` was worked out from.
    static func isCurrent(_ plan: IngestPlan, in db: Database) throws -> Bool {
        guard let checkoutID = plan.checkoutID, let basis = plan.basis else {
            // Nothing matched: a checkout or a payment may have been recorded since; only an
            // event of a type never acted on is safe to keep as it was.
            return plan.outcome == .ignored
        }
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT checkout.version, "order".updated_at, "order".paid_checkout_id
                    FROM checkout JOIN "order" ON "order".storefront = checkout.storefront AND "order".id = checkout.order_id WHERE checkout.id = ?
                    """), arguments: [checkoutID])
        guard let row else { return false }
        let current = IngestPlan.Basis(checkoutVersion: row[0], orderUpdatedAt: row[1], paidCheckoutID: row[2])
        return current == basis
    }

    /// Works out what `event` does, reading only. Runs on a reader (ahead of the write) or inside
    /// the write transaction.
    static func plan(_ event: NormalisedEvent, source: InboxRecord.Source, now: Date, in db: Database) throws -> IngestPlan {
        guard event.isActionable else { return IngestPlan(outcome: .ignored, detail: "type not acted on") }
        guard let checkout = try findCheckout(for: event, in: db) else {
            return IngestPlan(outcome: .unmatched, detail: "no checkout of this gateway has this object")
        }
        guard
            let order = try OrderRecord.fetchOne(
                db.cachedStatement(sql: #"SELECT * FROM "order" WHERE storefront = ? AND id = ?"#),
                arguments: [checkout.storefront, checkout.orderID])
        else {
            return IngestPlan(outcome: .unmatched, checkoutID: checkout.id, detail: "the checkout's order is missing")
        }
        let attempts = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT id, status, reason FROM payment_intent WHERE checkout_id = ?"), arguments: [checkout.id]
        )
        .compactMap { row -> (String, CheckoutStateMachine.Attempt)? in
            guard let status = PaymentStatus(rawValue: row[1]) else { return nil }
            return (row[0], .init(status: status, reason: row[2]))
        }
        return try decide(event, source: source, now: now, checkout: checkout, order: order, attempts: attempts) { eventID in
            try String.fetchOne(db.cachedStatement(sql: "SELECT traceparent FROM outbox WHERE event_id = ?"), arguments: [eventID])
        }
    }

    /// Writes what `plan` says; returns how many outbox rows were added.
    static func write(_ plan: IngestPlan, now: Date, in db: Database) throws -> Int {
        for attempt in plan.attempts {
            try db.cachedStatement(
                sql: """
                    INSERT INTO payment_intent (id, checkout_id, status, reason, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at
                    """
            ).execute(arguments: [attempt.id, attempt.checkoutID, attempt.status.rawValue, attempt.reason, attempt.updatedAt])
        }
        if let change = plan.checkout, let checkoutID = plan.checkoutID {
            try db.cachedStatement(
                sql: """
                    UPDATE checkout SET status = ?, session_finished = ?, review_since = ?, failure_reason = ?, payment_intent_id = ?,
                      reconciled_at = COALESCE(?, reconciled_at), updated_at = ?, version = version + 1
                    WHERE id = ?
                    """
            ).execute(arguments: [
                change.status.rawValue, change.sessionFinished, change.reviewSince, change.failureReason, change.paymentIntentID,
                change.reconciledAt, now, checkoutID,
            ])
        }
        if let paid = plan.orderPaid {
            try db.cachedStatement(
                sql: """
                    UPDATE "order" SET paid_checkout_id = ?, status = 'paid', updated_at = ?
                    WHERE storefront = ? AND id = ? AND paid_checkout_id IS NULL
                    """
            ).execute(arguments: [paid.checkoutID, now, paid.storefront, paid.orderID])
        }
        var added = 0
        for row in plan.outbox where try row.enqueue(in: db) {
            added += 1
        }
        return added
    }

    /// The checkout an event is about: by the object's own id, by a payment attempt already tied
    /// to a checkout, or by our checkout id in the object's metadata.
    static func findCheckout(for event: NormalisedEvent, in db: Database) throws -> CheckoutRecord? {
        let byProvider = try db.cachedStatement(sql: "SELECT * FROM checkout WHERE provider_id = ?")
        let byID = try db.cachedStatement(sql: "SELECT * FROM checkout WHERE id = ?")
        if let intentID = event.intentID {
            if let checkout = try CheckoutRecord.fetchOne(byProvider, arguments: [intentID]) { return checkout }
            if let checkoutID = try String.fetchOne(
                db.cachedStatement(sql: "SELECT checkout_id FROM payment_intent WHERE id = ?"), arguments: [intentID])
            {
                return try CheckoutRecord.fetchOne(byID, arguments: [checkoutID])
            }
        }
        if let sessionID = event.sessionID, let checkout = try CheckoutRecord.fetchOne(byProvider, arguments: [sessionID]) {
            return checkout
        }
        if let hint = event.checkoutHint, let checkout = try CheckoutRecord.fetchOne(byID, arguments: [hint]) {
            // Metadata is copied onto a session's attempts; a widget payment intent is its own
            // object, so a different intent naming it is not believed.
            if checkout.ui != .paymentIntent || checkout.providerID == event.intentID { return checkout }
        }
        return nil
    }

    /// Takes in again the stored unmatched events that name `intentID`, now that it is tied to
    /// `checkoutID` (a payment's own event delivered before the session's).
    static func adoptUnmatched(intentID: String, checkoutID: String, now: Date, in db: Database) throws {
        let waiting =
            try InboxRecord
            .filter(InboxRecord.Columns.objectID == intentID && InboxRecord.Columns.outcome == InboxRecord.Outcome.unmatched.rawValue)
            .order(InboxRecord.Columns.receivedAt)
            .limit(adoptLimit)
            .fetchAll(db)
        for var row in waiting {
            guard let event = try? WebhookNormaliser.normalise(row.body) else { continue }
            let plan = try plan(event, source: row.source, now: now, in: db)
            _ = try write(plan, now: now, in: db)
            row.outcome = plan.outcome
            row.checkoutID = plan.checkoutID
            row.detail = plan.detail
            try row.update(db, columns: ["outcome", "checkout_id", "detail"])
        }
    }
}
