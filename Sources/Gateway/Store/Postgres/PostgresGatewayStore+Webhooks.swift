import Foundation
import PaymentsCore
import PostgresNIO
import PostgresSupport

/// Taking in Fintoc events with several gateway replicas on one database. The decisions are
/// `WebhookApplier.decide`'s and the steps SQLite's (`SQLiteGatewayStore+Webhooks.swift`); what
/// this adds is the locking that makes N writers end as one:
///
/// - A group first takes the transaction lock of every order its prepared plans name and of
///   every payment intent its events name, in one sorted statement. A plan is then checked
///   against the checkout's version under that lock, and worked out again when stale.
/// - A plan that turns out to need a lock the group does not hold (its checkout was found only
///   now) takes it and is worked out again. Such late locks can meet another group's in a
///   circle; PostgreSQL then fails one of the two, and that group is run again from the start.
/// - The inbox's primary key settles two replicas given the same event: the second one's insert
///   waits for the first to commit, finds the row, and its savepoint is rolled back: a duplicate.
extension PostgresGatewayStore {
    func prepareIngest(_ item: IngestItem) async throws -> IngestPlan? {
        let logger = logger
        return try await snapshot("work out a Fintoc event") { connection -> IngestPlan? in
            if try await Self.isRecorded(item.event.id, on: connection, logger: logger) { return nil }
            return try await Self.plan(item.event, source: item.source, now: item.receivedAt, on: connection, logger: logger)
        }
    }

    /// How many times a group that lost a deadlock is run again before its events fail (and
    /// Fintoc redelivers them).
    static let deadlockAttempts = 3

    func ingest(_ items: [IngestItem]) async throws -> [Result<IngestOutcome, any Error>] {
        var attempt = 1
        while true {
            do {
                return try await ingestOnce(items)
            } catch let failure as PostgresFailure where failure.sqlState == "40P01" && attempt < Self.deadlockAttempts {
                logger.info("webhook group lost a deadlock; running it again", metadata: ["events": "\(items.count)"])
                attempt += 1
            }
        }
    }

    private func ingestOnce(_ items: [IngestItem]) async throws -> [Result<IngestOutcome, any Error>] {
        let logger = logger
        return try await transaction("take in \(items.count) Fintoc events") { connection in
            var held = Set(items.flatMap { Self.lockKeys(for: $0.event, plan: $0.plan) })
            try await Self.lock(held, on: connection, logger: logger)
            var results: [Result<IngestOutcome, any Error>] = []
            results.reserveCapacity(items.count)
            for item in items {
                try await connection.execute("SAVEPOINT webhook", logger: logger)
                do {
                    let outcome = try await Self.apply(item, holding: &held, on: connection, logger: logger)
                    try await connection.execute("RELEASE SAVEPOINT webhook", logger: logger)
                    results.append(.success(outcome))
                } catch {
                    if (error as? PSQLError)?.serverInfo?[.sqlState] == "40P01" { throw error }
                    try await connection.execute("ROLLBACK TO SAVEPOINT webhook", logger: logger)
                    results.append(error is RacedDuplicate ? .success(.duplicate) : .failure(error))
                }
            }
            return results
        }
    }

    /// Another replica recorded the same event while this one was working it out.
    private struct RacedDuplicate: Error {}

    /// The locks an event needs: its order (once a plan matched it), and the payment intents it
    /// names or ties to a checkout.
    static func lockKeys(for event: NormalisedEvent, plan: IngestPlan?) -> [String] {
        var keys: [String] = []
        if let intentID = event.intentID { keys.append(LockKey.intent(intentID)) }
        if let learned = plan?.learnedIntent { keys.append(LockKey.intent(learned)) }
        if let order = plan?.order { keys.append(LockKey.order(storefront: order.storefront, id: order.orderID)) }
        return keys
    }

    static func apply(_ item: IngestItem, holding held: inout Set<String>, on connection: PostgresConnection, logger: Logger)
        async throws -> IngestOutcome
    {
        let event = item.event
        if try await isRecorded(event.id, on: connection, logger: logger) { return .duplicate }
        var plan: IngestPlan
        if let prepared = item.plan, held.isSuperset(of: lockKeys(for: event, plan: prepared)),
            try await isCurrent(prepared, on: connection, logger: logger)
        {
            plan = prepared
        } else {
            plan = try await self.plan(event, source: item.source, now: item.receivedAt, on: connection, logger: logger)
        }
        while case let needed = Set(lockKeys(for: event, plan: plan)).subtracting(held), !needed.isEmpty {
            try await lock(needed, on: connection, logger: logger)
            held.formUnion(needed)
            plan = try await self.plan(event, source: item.source, now: item.receivedAt, on: connection, logger: logger)
        }
        let events = try await write(plan, now: item.receivedAt, on: connection, logger: logger)
        let inserted = try await connection.count(
            """
            INSERT INTO inbox (id, type, source, object_id, checkout_id, outcome, detail, body, occurred_at, received_at)
            VALUES (\(event.id), \(event.type), \(item.source.rawValue), \(event.objectID), \(plan.checkoutID), \(plan.outcome.rawValue),
              \(plan.detail), \(item.body), \(event.occurredAt), \(item.receivedAt))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """, logger: logger)
        if inserted == 0 { throw RacedDuplicate() }
        if let intentID = plan.learnedIntent, let checkoutID = plan.checkoutID {
            try await adoptUnmatched(intentID: intentID, checkoutID: checkoutID, now: item.receivedAt, on: connection, logger: logger)
        }
        return .recorded(plan.outcome, checkoutID: plan.checkoutID, events: events, review: plan.review)
    }

    static func isRecorded(_ id: String, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.count("SELECT 1 FROM inbox WHERE id = \(id)", logger: logger) > 0
    }

    /// Whether the store still holds what `plan` was worked out from.
    static func isCurrent(_ plan: IngestPlan, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        guard let checkoutID = plan.checkoutID, let basis = plan.basis else { return plan.outcome == .ignored }
        var current: IngestPlan.Basis?
        for try await (version, updatedAt, paidBy) in try await connection.query(
            """
            SELECT checkout.version, "order".updated_at, "order".paid_checkout_id
            FROM checkout JOIN "order" ON "order".storefront = checkout.storefront AND "order".id = checkout.order_id
            WHERE checkout.id = \(checkoutID)
            """, logger: logger
        ).decode((Int64, Date, String?).self) {
            current = IngestPlan.Basis(checkoutVersion: version, orderUpdatedAt: updatedAt, paidCheckoutID: paidBy)
        }
        return current == basis
    }

    /// Works out what `event` does, reading only (see `WebhookApplier.plan` on SQLite).
    static func plan(_ event: NormalisedEvent, source: InboxRecord.Source, now: Date, on connection: PostgresConnection, logger: Logger)
        async throws -> IngestPlan
    {
        guard event.isActionable else { return IngestPlan(outcome: .ignored, detail: "type not acted on") }
        guard let checkout = try await findCheckout(for: event, on: connection, logger: logger) else {
            return IngestPlan(outcome: .unmatched, detail: "no checkout of this gateway has this object")
        }
        guard let order = try await order(storefront: checkout.storefront, id: checkout.orderID, on: connection, logger: logger) else {
            return IngestPlan(outcome: .unmatched, checkoutID: checkout.id, detail: "the checkout's order is missing")
        }
        var attempts: [(String, CheckoutStateMachine.Attempt)] = []
        for try await (id, status, reason) in try await connection.query(
            "SELECT id, status, reason FROM payment_intent WHERE checkout_id = \(checkout.id)", logger: logger
        ).decode((String, String, String?).self) {
            if let status = PaymentStatus(rawValue: status) { attempts.append((id, .init(status: status, reason: reason))) }
        }
        let traceparent = try await connection.scalar(
            "SELECT traceparent FROM outbox WHERE event_id = \(WebhookApplier.traceSource(checkout: checkout, order: order))",
            as: String?.self, logger: logger)
        return try WebhookApplier.decide(event, source: source, now: now, checkout: checkout, order: order, attempts: attempts) { _ in
            traceparent ?? nil
        }
    }

    /// Writes what `plan` says; returns how many outbox rows were added.
    static func write(_ plan: IngestPlan, now: Date, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        for attempt in plan.attempts {
            try await connection.execute(
                """
                INSERT INTO payment_intent (id, checkout_id, status, reason, updated_at)
                VALUES (\(attempt.id), \(attempt.checkoutID), \(attempt.status.rawValue), \(attempt.reason), \(attempt.updatedAt))
                ON CONFLICT (id) DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at
                """, logger: logger)
        }
        if let change = plan.checkout, let checkoutID = plan.checkoutID {
            try await connection.execute(
                """
                UPDATE checkout SET status = \(change.status.rawValue), session_finished = \(change.sessionFinished),
                  review_since = \(change.reviewSince), failure_reason = \(change.failureReason),
                  payment_intent_id = \(change.paymentIntentID), reconciled_at = COALESCE(\(change.reconciledAt), reconciled_at),
                  updated_at = \(now), version = version + 1
                WHERE id = \(checkoutID)
                """, logger: logger)
        }
        if let paid = plan.orderPaid {
            try await connection.execute(
                """
                UPDATE "order" SET paid_checkout_id = \(paid.checkoutID), status = 'paid', updated_at = \(now)
                WHERE storefront = \(paid.storefront) AND id = \(paid.orderID) AND paid_checkout_id IS NULL
                """, logger: logger)
        }
        var added = 0
        for row in plan.outbox where try await enqueue(row, on: connection, logger: logger) {
            added += 1
        }
        return added
    }

    /// The checkout an event is about: by the object's own id, by a payment attempt already tied
    /// to a checkout, or by our checkout id in the object's metadata.
    static func findCheckout(for event: NormalisedEvent, on connection: PostgresConnection, logger: Logger) async throws
        -> CheckoutRecord?
    {
        func byProvider(_ id: String) async throws -> CheckoutRecord? {
            try await connection.records(
                "SELECT * FROM checkout WHERE provider_id = \(id)", logger: logger, CheckoutRecord.init(columns:)
            ).first
        }
        if let intentID = event.intentID {
            if let checkout = try await byProvider(intentID) { return checkout }
            if let checkoutID = try await connection.scalar(
                "SELECT checkout_id FROM payment_intent WHERE id = \(intentID)", as: String.self, logger: logger)
            {
                return try await checkout(checkoutID, on: connection, logger: logger)
            }
        }
        if let sessionID = event.sessionID, let checkout = try await byProvider(sessionID) { return checkout }
        if let hint = event.checkoutHint, let checkout = try await checkout(hint, on: connection, logger: logger) {
            // Metadata is copied onto a session's attempts; a widget payment intent is its own
            // object, so a different intent naming it is not believed.
            if checkout.ui != .paymentIntent || checkout.providerID == event.intentID { return checkout }
        }
        return nil
    }

    /// Takes in again the stored unmatched events that name `intentID`, now that it is tied to
    /// `checkoutID` (a payment's own event delivered before the session's).
    static func adoptUnmatched(intentID: String, checkoutID: String, now: Date, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        let waiting = try await connection.records(
            """
            SELECT * FROM inbox WHERE object_id = \(intentID) AND outcome = \(InboxRecord.Outcome.unmatched.rawValue)
            ORDER BY received_at LIMIT \(Int64(WebhookApplier.adoptLimit))
            """, logger: logger, InboxRecord.init(columns:))
        for row in waiting {
            guard let event = try? WebhookNormaliser.normalise(row.body) else { continue }
            let plan = try await plan(event, source: row.source, now: now, on: connection, logger: logger)
            _ = try await write(plan, now: now, on: connection, logger: logger)
            try await connection.execute(
                """
                UPDATE inbox SET outcome = \(plan.outcome.rawValue), checkout_id = \(plan.checkoutID), detail = \(plan.detail)
                WHERE id = \(row.id)
                """, logger: logger)
        }
    }
}
