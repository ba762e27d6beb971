import Foundation
import PaymentsCore
import PostgresNIO
import PostgresSupport

extension PostgresFulfillmentStore {
    /// `FulfillmentEngine.apply`: one transaction for the batch, each plan in a savepoint.
    ///
    /// Before any plan runs, the batch takes every lock it will need, in one fixed order: a
    /// transaction advisory lock per order (by key), then the rows of every product its orders
    /// name (by SKU, `FOR UPDATE`). Another worker's batch with an order or a SKU in common
    /// waits for this one to commit, and then reads what it wrote; as every batch locks in the
    /// same order, two batches never wait on each other in a circle. Stock is therefore never
    /// sold twice, and an order's `checkout.created` and `payment.succeeded` applied by two
    /// workers at the same moment end as they would one after the other.
    func apply(_ plans: [DeliveryPlan]) async throws -> [Result<DeliveryResult, any Error>] {
        let now = Date()
        let orderKeys = Set(plans.map { "\($0.key.storefront)\u{1F}\($0.key.id)" }).sorted()
        let skus = Set(plans.flatMap { $0.order.lineItems.map(\.sku) }).sorted()
        let logger = logger
        return try await transaction("apply a batch of \(plans.count) deliveries") { connection in
            try await connection.execute(
                """
                SELECT pg_advisory_xact_lock(\(LockSpace.orders), key) FROM (
                    SELECT DISTINCT hashtext(order_key) AS key FROM unnest(\(orderKeys)::text[]) AS t(order_key) ORDER BY key
                ) AS sorted
                """, logger: logger)
            try await connection.execute("SELECT sku FROM product WHERE sku = ANY(\(skus)::text[]) ORDER BY sku FOR UPDATE", logger: logger)
            var results: [Result<DeliveryResult, any Error>] = []
            results.reserveCapacity(plans.count)
            for plan in plans {
                try await connection.execute("SAVEPOINT delivery", logger: logger)
                do {
                    let result = try await Self.carryOut(plan, connection, now: now, logger: logger)
                    try await connection.execute("RELEASE SAVEPOINT delivery", logger: logger)
                    results.append(.success(result))
                } catch {
                    try await connection.execute("ROLLBACK TO SAVEPOINT delivery", logger: logger)
                    results.append(.failure(PostgresFailure(error, doing: "apply message \(plan.messageID)")))
                }
            }
            return results
        }
    }

    /// The steps of `DeliveryPlan`, in its order: `SQLiteFulfillmentStore.carryOut` with
    /// PostgreSQL's statements.
    private static func carryOut(_ plan: DeliveryPlan, _ connection: PostgresConnection, now: Date, logger: Logger) async throws
        -> DeliveryResult
    {
        let key = plan.key
        let ledger = PostgresStockLedger(connection: connection, now: now, logger: logger)
        let claimed = try await connection.count(
            """
            INSERT INTO processed_message (id, type, storefront, order_id, outcome, processed_at)
            VALUES (\(plan.messageID), \(plan.type), \(key.storefront), \(key.id), '', \(now))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """, logger: logger)
        guard claimed > 0 else { return DeliveryResult(outcome: .duplicate) }
        var result: DeliveryResult
        switch plan.action {
        case .hold(let checkout, let expiresAt):
            result = DeliveryResult(
                outcome: ApplyOutcome(try await ledger.placeHolds(order: plan.order, checkout: checkout, expiresAt: expiresAt)))
        case .sell(let checkout, let paymentID, let followUp):
            let sale = try await ledger.sell(order: plan.order, checkout: checkout, paymentID: paymentID)
            result = DeliveryResult(outcome: ApplyOutcome(sale))
            if let next = try followUp(sale, now) {
                try await queueEvent(next.event, order: key, connection, now: now, logger: logger)
                result.eventQueued = true
                result.emailQueued = try await queueEmail(next.email, connection, now: now, logger: logger)
            }
        case .release(let checkout, let outcome, let email):
            try await ledger.release(order: key, checkout: checkout, outcome: outcome)
            result = DeliveryResult(outcome: .released)
            if let email, try await !ledger.isSold(key) {
                result.emailQueued = try await queueEmail(email, connection, now: now, logger: logger)
            }
        case .emailUnlessSold(let email):
            result = DeliveryResult(outcome: .recorded)
            if let email, try await !ledger.isSold(key) {
                result.emailQueued = try await queueEmail(email, connection, now: now, logger: logger)
            }
        case .record:
            result = DeliveryResult(outcome: .recorded)
        }
        try await connection.execute(
            "UPDATE processed_message SET outcome = \(result.outcome.rawValue) WHERE id = \(plan.messageID)", logger: logger)
        return result
    }

    /// Adds the email to the notification outbox unless the order already has one of its kind.
    private static func queueEmail(
        _ email: NotificationComposer.Rendered, _ connection: PostgresConnection, now: Date, logger: Logger
    ) async throws -> Bool {
        try await connection.count(
            """
            INSERT INTO notification (storefront, order_id, kind, recipient, message_id, subject, message, created_at, next_attempt_at)
            VALUES (\(email.order.storefront), \(email.order.id), \(email.kind.rawValue), \(email.recipient), \(email.messageID),
                    \(email.subject), \(email.message), \(now), \(now))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger: logger) > 0
    }

    /// Adds one of the worker's own events to the event outbox; an event id already there stays.
    private static func queueEvent(
        _ event: DeliveryPlan.OutgoingEvent, order: OrderKey, _ connection: PostgresConnection, now: Date, logger: Logger
    ) async throws {
        try await connection.execute(
            """
            INSERT INTO event_outbox (event_id, type, storefront, order_id, body, created_at)
            VALUES (\(event.id), \(event.type), \(order.storefront), \(order.id), \(event.body), \(now)) ON CONFLICT DO NOTHING
            """, logger: logger)
    }
}
