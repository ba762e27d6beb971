import Foundation
import PaymentsCore
import PostgresNIO
import PostgresSupport

/// Orders and their checkouts, and what reconciliation reads and marks (`GatewayStore` says what
/// each operation does). Writes take the order's transaction lock first, as webhooks do.
extension PostgresGatewayStore {
    func checkout(_ id: String, storefront: String) async throws -> CheckoutRecord? {
        let logger = logger
        return try await snapshot("read checkout") { connection in
            try await Self.checkout(id, storefront: storefront, on: connection, logger: logger)
        }
    }

    static func checkout(_ id: String, storefront: String? = nil, on connection: PostgresConnection, logger: Logger) async throws
        -> CheckoutRecord?
    {
        let found = try await connection.records(
            "SELECT * FROM checkout WHERE id = \(id)", logger: logger, CheckoutRecord.init(columns:)
        ).first
        guard let found, storefront == nil || found.storefront == storefront else { return nil }
        return found
    }

    static func order(storefront: String, id: String, on connection: PostgresConnection, logger: Logger)
        async throws -> OrderRecord?
    {
        try await connection.records(
            #"SELECT * FROM "order" WHERE storefront = \#(storefront) AND id = \#(id)"#, logger: logger, OrderRecord.init(columns:)
        ).first
    }

    func lookUpCheckout(_ checkoutID: String, orElseOrder orderID: String, storefront: String) async throws -> CheckoutLookup {
        let logger = logger
        return try await snapshot("look up checkout") { connection in
            if let existing = try await Self.checkout(checkoutID, storefront: storefront, on: connection, logger: logger) {
                return .made(existing)
            }
            return .order(try await Self.order(storefront: storefront, id: orderID, on: connection, logger: logger))
        }
    }

    func orderWithHistory(_ id: String, storefront: String) async throws -> OrderHistory? {
        let logger = logger
        return try await snapshot("read order") { connection in
            guard let order = try await Self.order(storefront: storefront, id: id, on: connection, logger: logger) else { return nil }
            let checkouts = try await connection.records(
                "SELECT * FROM checkout WHERE storefront = \(storefront) AND order_id = \(id) ORDER BY attempt", logger: logger,
                CheckoutRecord.init(columns:))
            let events = try await Self.domainEvents(storefront: storefront, orderID: id, on: connection, logger: logger)
            return OrderHistory(order: order, checkouts: checkouts, events: events)
        }
    }

    func recordCheckout(
        _ new: NewCheckout, answering claim: IdempotencyClaim, refusal: @escaping @Sendable (OrderRecord) -> (any Error)?,
        answer: @escaping @Sendable (CheckoutRecord) throws -> StoredAnswer
    ) async throws -> StoredAnswer {
        let logger = logger
        return try await transaction("record a checkout") { connection in
            let stored = try await Self.record(new, refusal: refusal, answer: answer, on: connection, logger: logger)
            try await Self.storeAnswer(status: stored.status, body: stored.body, for: claim, on: connection, logger: logger)
            return stored
        }
    }

    private static func record(
        _ new: NewCheckout, refusal: (OrderRecord) -> (any Error)?, answer: (CheckoutRecord) throws -> StoredAnswer,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> StoredAnswer {
        let request = new.request
        let made = new.made
        let now = new.now
        let orderID = request.order.id.rawValue
        try await lock([LockKey.order(storefront: new.storefront, id: orderID)], on: connection, logger: logger)
        let existing = try await order(storefront: new.storefront, id: orderID, on: connection, logger: logger)
        let recorded = try await checkout(new.checkoutID, on: connection, logger: logger)
        if let existing, recorded == nil, let refused = refusal(existing) {
            throw refused
        }
        let order: OrderRecord
        if var known = existing {
            known.customer = request.order.customer
            known.language = request.order.language
            known.updatedAt = now
            try await connection.execute(
                """
                UPDATE "order" SET customer = \(try RowJSON.text(known.customer)), language = \(known.language.rawValue),
                  updated_at = \(now) WHERE storefront = \(known.storefront) AND id = \(known.id)
                """, logger: logger)
            order = known
        } else {
            order = OrderRecord(
                id: orderID, storefront: new.storefront, amount: request.order.amount, currency: request.order.currency,
                language: request.order.language, customer: request.order.customer, lineItems: request.order.lineItems, status: .open,
                createdAt: now, updatedAt: now
            )
            try await connection.execute(
                """
                INSERT INTO "order" (storefront, id, amount, currency, language, customer, line_items, status, created_at, updated_at)
                VALUES (\(order.storefront), \(order.id), \(order.amount), \(order.currency.rawValue), \(order.language.rawValue),
                  \(try RowJSON.text(order.customer)), \(try RowJSON.text(order.lineItems)), \(order.status.rawValue), \(now), \(now))
                """, logger: logger)
        }
        if let recorded { return try answer(recorded) }

        let last = try await connection.scalar(
            "SELECT COALESCE(MAX(attempt), 0) FROM checkout WHERE storefront = \(order.storefront) AND order_id = \(order.id)",
            as: Int64.self,
            logger: logger)
        let checkout = CheckoutRecord(
            id: new.checkoutID, storefront: order.storefront, orderID: order.id, attempt: Int(last ?? 0) + 1, ui: request.ui,
            status: .created, mode: made.mode, providerID: made.providerID, paymentIntentID: made.paymentIntentID,
            redirectURL: made.redirectURL, sessionToken: made.sessionToken, widgetToken: made.widgetToken,
            successURL: request.successURL, cancelURL: request.cancelURL, metadata: request.metadata, failureReason: nil,
            expiresAt: made.expiresAt, createdAt: now, updatedAt: now
        )
        try await connection.execute(
            """
            INSERT INTO checkout (id, storefront, order_id, attempt, ui, status, mode, provider_id, payment_intent_id, redirect_url,
              session_token, widget_token, success_url, cancel_url, metadata, expires_at, created_at, updated_at)
            VALUES (\(checkout.id), \(checkout.storefront), \(checkout.orderID), \(Int64(checkout.attempt)), \(checkout.ui.rawValue),
              \(checkout.status.rawValue), \(checkout.mode), \(checkout.providerID), \(checkout.paymentIntentID), \(checkout.redirectURL),
              \(checkout.sessionToken), \(checkout.widgetToken), \(checkout.successURL), \(checkout.cancelURL),
              \(try RowJSON.text(checkout.metadata)), \(checkout.expiresAt), \(now), \(now))
            """, logger: logger)
        if request.ui == .redirect, request.order.customer.taxID != nil {
            try await customerRecorded(
                checkoutID: new.checkoutID, mode: made.mode, taxID: request.order.customer.taxID, customerID: made.customerID, now: now,
                on: connection, logger: logger)
        }
        let event = DomainEvent.checkoutCreated(
            CheckoutCreated(
                order: order.snapshot, checkout: checkout.snapshot, mode: Mode(rawValue: made.mode) ?? .test, occurredAt: now))
        try await enqueue(
            OutboxRecord(envelope: EventEnvelope(event: event, time: now, traceparent: new.traceparent)), on: connection, logger: logger)
        return try answer(checkout)
    }

    func expireCheckout(
        _ id: String, now: Date, traceparent: String?, answering claim: IdempotencyClaim,
        answer: @escaping @Sendable (CheckoutRecord) throws -> StoredAnswer
    ) async throws -> StoredAnswer? {
        let logger = logger
        return try await transaction("expire a checkout") { connection -> StoredAnswer? in
            guard let seen = try await Self.checkout(id, on: connection, logger: logger) else { return nil }
            try await Self.lock([LockKey.order(storefront: seen.storefront, id: seen.orderID)], on: connection, logger: logger)
            // Read again under the lock: a webhook may have moved it since.
            guard var current = try await Self.checkout(id, on: connection, logger: logger),
                let order = try await Self.order(storefront: current.storefront, id: current.orderID, on: connection, logger: logger)
            else { return nil }
            if !current.status.isTerminal {
                current.status = .expired
                current.updatedAt = now
                current.version += 1
                try await connection.execute(
                    "UPDATE checkout SET status = \(current.status.rawValue), updated_at = \(now), version = version + 1 WHERE id = \(id)",
                    logger: logger)
                let event = DomainEvent.checkoutExpired(
                    CheckoutExpired(
                        order: order.snapshot, checkout: current.snapshot, mode: Mode(rawValue: current.mode) ?? .test, occurredAt: now))
                try await Self.enqueue(
                    OutboxRecord(envelope: EventEnvelope(event: event, time: now, traceparent: traceparent)), on: connection, logger: logger
                )
            }
            let stored = try answer(current)
            try await Self.storeAnswer(status: stored.status, body: stored.body, for: claim, on: connection, logger: logger)
            return stored
        }
    }

    func checkoutsToReconcile(overdueBefore: Date, pendingBefore: Date, everythingOpen: Bool, limit: Int) async throws -> [CheckoutRecord] {
        let logger = logger
        let limit = Int64(limit)
        return try await snapshot("find checkouts to reconcile") { connection in
            let review = try await connection.records(
                "SELECT * FROM checkout WHERE review_since IS NOT NULL ORDER BY review_since LIMIT \(limit)", logger: logger,
                CheckoutRecord.init(columns:))
            let overdue = try await connection.records(
                """
                SELECT * FROM checkout
                WHERE status IN ('created', 'action_required') AND review_since IS NULL
                  AND (expires_at < \(overdueBefore) OR (expires_at IS NULL AND \(everythingOpen)))
                  AND (reconciled_at IS NULL OR reconciled_at < \(overdueBefore))
                ORDER BY expires_at LIMIT \(limit)
                """, logger: logger, CheckoutRecord.init(columns:))
            let pending = try await connection.records(
                """
                SELECT * FROM checkout
                WHERE status = 'pending' AND review_since IS NULL AND updated_at < \(pendingBefore)
                  AND (reconciled_at IS NULL OR reconciled_at < \(pendingBefore))
                ORDER BY updated_at LIMIT \(limit)
                """, logger: logger, CheckoutRecord.init(columns:))
            return Array((review + overdue + pending).prefix(Int(limit)))
        }
    }

    func markReconciled(_ id: String, at now: Date) async throws {
        let logger = logger
        try await transaction("mark a checkout reconciled") { connection in
            try await connection.execute("UPDATE checkout SET reconciled_at = \(now) WHERE id = \(id)", logger: logger)
        }
    }

    /// Runs `body` in one read-only transaction that sees one snapshot throughout.
    func snapshot<T>(_ what: String, _ body: (PostgresConnection) async throws -> sending T) async throws -> sending T {
        let logger = logger
        return try await transaction(what) { connection in
            try await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            return try await body(connection)
        }
    }
}
