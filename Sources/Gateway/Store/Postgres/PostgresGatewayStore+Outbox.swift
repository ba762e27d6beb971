import Foundation
import PaymentsCore
import PostgresNIO
import PostgresSupport

/// The outbox and the operator's reads of it (`GatewayStore` says what each operation does).
extension PostgresGatewayStore {
    /// Adds the row unless its event id is there already; returns whether it was added.
    @discardableResult
    static func enqueue(_ row: OutboxRecord, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.count(
            """
            INSERT INTO outbox (event_id, storefront, order_id, type, body, traceparent, created_at)
            VALUES (\(row.eventID), \(row.storefront), \(row.orderID), \(row.type), \(row.body), \(row.traceparent), \(row.createdAt))
            ON CONFLICT (event_id) DO NOTHING RETURNING 1
            """, logger: logger) == 1
    }

    func claimOutboxBatch(limit: Int) async throws -> [OutboxRecord] {
        let logger = logger
        return try await snapshot("read the next outbox batch") { connection in
            try await connection.records(
                """
                SELECT outbox.* FROM outbox
                JOIN (SELECT MIN(sequence) AS first FROM outbox WHERE published_at IS NULL GROUP BY storefront, order_id) AS heads
                  ON outbox.sequence = heads.first
                ORDER BY outbox.sequence
                LIMIT \(Int64(limit))
                """, logger: logger, OutboxRecord.init(columns:))
        }
    }

    func markOutbox(published: [Int64], failed: [Int64], now: Date) async throws {
        let logger = logger
        try await transaction("mark outbox rows") { connection in
            if !published.isEmpty {
                try await connection.execute(
                    """
                    UPDATE outbox SET published_at = \(now), publish_attempts = publish_attempts + 1
                    WHERE sequence = ANY(\(published)::bigint[])
                    """, logger: logger)
            }
            if !failed.isEmpty {
                try await connection.execute(
                    "UPDATE outbox SET publish_attempts = publish_attempts + 1 WHERE sequence = ANY(\(failed)::bigint[])", logger: logger)
            }
        }
    }

    func outboxWaiting(now: Date) async throws -> (depth: Int, oldestAgeSeconds: Double?) {
        let logger = logger
        return try await snapshot("count the outbox") { connection in
            try await Self.outboxWaiting(now: now, on: connection, logger: logger)
        }
    }

    private static func outboxWaiting(now: Date, on connection: PostgresConnection, logger: Logger) async throws -> (
        depth: Int, oldestAgeSeconds: Double?
    ) {
        var result: (depth: Int, oldestAgeSeconds: Double?) = (0, nil)
        for try await (depth, oldest) in try await connection.query(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE published_at IS NULL", logger: logger
        ).decode((Int64, Date?).self) {
            result = (Int(depth), oldest.map { max(0, now.timeIntervalSince($0)) })
        }
        return result
    }

    func outboxStatus(now: Date) async throws -> OutboxStatus {
        let logger = logger
        return try await snapshot("read the outbox status") { connection in
            let waiting = try await Self.outboxWaiting(now: now, on: connection, logger: logger)
            var published: Int64 = 0
            var last: Date?
            for try await (count, latest) in try await connection.query(
                "SELECT COUNT(*) FILTER (WHERE published_at IS NOT NULL), MAX(published_at) FROM outbox", logger: logger
            ).decode((Int64, Date?).self) {
                published = count
                last = latest
            }
            return OutboxStatus(
                depth: waiting.depth, oldestAgeSeconds: waiting.oldestAgeSeconds, publishedTotal: Int(published), lastPublishedAt: last)
        }
    }

    static func domainEvents(storefront: String, orderID: String, on connection: PostgresConnection, logger: Logger) async throws
        -> [OutboxRecord]
    {
        try await connection.records(
            "SELECT * FROM outbox WHERE storefront = \(storefront) AND order_id = \(orderID) ORDER BY sequence", logger: logger,
            OutboxRecord.init(columns:))
    }

    func history(of name: EventLog.OrderName) async throws -> (order: OrderRecord, domain: [OutboxRecord], fintoc: [InboxRecord]) {
        let logger = logger
        return try await snapshot("read an order's history") { connection in
            let order = try await Self.resolve(name, on: connection, logger: logger)
            let domain = try await Self.domainEvents(storefront: order.storefront, orderID: order.id, on: connection, logger: logger)
            let fintoc = try await connection.records(
                """
                SELECT * FROM inbox WHERE checkout_id IN (SELECT id FROM checkout WHERE storefront = \(order.storefront) AND order_id = \(order.id))
                ORDER BY received_at, id
                """, logger: logger, InboxRecord.init(columns:))
            return (order, domain, fintoc)
        }
    }

    func domainEvents(order name: EventLog.OrderName?, since: Date?, limit: Int) async throws -> [OutboxRecord] {
        let logger = logger
        return try await snapshot("read domain events") { connection in
            var storefront: String?
            var orderID: String?
            if let name {
                let order = try await Self.resolve(name, on: connection, logger: logger)
                storefront = order.storefront
                orderID = order.id
            }
            return try await connection.records(
                """
                SELECT * FROM outbox
                WHERE (\(storefront)::text IS NULL OR (storefront = \(storefront) AND order_id = \(orderID)))
                  AND (\(since)::timestamptz IS NULL OR created_at >= \(since))
                ORDER BY sequence LIMIT \(Int64(limit))
                """, logger: logger, OutboxRecord.init(columns:))
        }
    }

    /// The one order `name` names; throws `EventLog.LookupError` when it names none, or (without
    /// a storefront) several.
    private static func resolve(_ name: EventLog.OrderName, on connection: PostgresConnection, logger: Logger) async throws -> OrderRecord {
        if let storefront = name.storefront {
            guard let order = try await order(storefront: storefront, id: name.id, on: connection, logger: logger) else {
                throw EventLog.LookupError.unknown(name)
            }
            return order
        }
        let matches = try await connection.records(
            #"SELECT * FROM "order" WHERE id = \#(name.id) ORDER BY storefront"#, logger: logger, OrderRecord.init(columns:))
        guard let first = matches.first else { throw EventLog.LookupError.unknown(name) }
        guard matches.count == 1 else { throw EventLog.LookupError.ambiguous(id: name.id, storefronts: matches.map(\.storefront)) }
        return first
    }
}
