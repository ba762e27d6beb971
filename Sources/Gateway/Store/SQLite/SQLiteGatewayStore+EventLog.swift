import Foundation
import GRDB

/// The operator's reads: an order's stored history and a selection of domain events to replay.
extension SQLiteGatewayStore {
    /// The order `name` names, its domain events (by sequence) and the Fintoc events matched to
    /// its checkouts (by arrival), from one snapshot.
    func history(of name: EventLog.OrderName) async throws -> (order: OrderRecord, domain: [OutboxRecord], fintoc: [InboxRecord]) {
        try await pool.read { db in
            let order = try Self.resolve(name, in: db)
            let domain =
                try OutboxRecord
                .filter(OutboxRecord.Columns.storefront == order.storefront && OutboxRecord.Columns.orderID == order.id)
                .order(OutboxRecord.Columns.sequence).fetchAll(db)
            let fintoc = try InboxRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM inbox WHERE checkout_id IN (SELECT id FROM checkout WHERE storefront = ? AND order_id = ?)
                    ORDER BY received_at, id
                    """, arguments: [order.storefront, order.id])
            return (order, domain, fintoc)
        }
    }

    /// Stored domain events by sequence, at most `limit`: the order's (when `name` is given) and
    /// those written at or after `since` (when given).
    func domainEvents(order name: EventLog.OrderName?, since: Date?, limit: Int) async throws -> [OutboxRecord] {
        try await pool.read { db in
            var request = OutboxRecord.all()
            if let name {
                let order = try Self.resolve(name, in: db)
                request = request.filter(OutboxRecord.Columns.storefront == order.storefront && OutboxRecord.Columns.orderID == order.id)
            }
            if let since { request = request.filter(OutboxRecord.Columns.createdAt >= since) }
            return try request.order(OutboxRecord.Columns.sequence).limit(limit).fetchAll(db)
        }
    }

    /// The one order `name` names; throws `EventLog.LookupError` when it names none, or (without
    /// a storefront) several.
    private static func resolve(_ name: EventLog.OrderName, in db: Database) throws -> OrderRecord {
        if let storefront = name.storefront {
            guard let order = try OrderRecord.find(storefront: storefront, id: name.id, in: db) else {
                throw EventLog.LookupError.unknown(name)
            }
            return order
        }
        let matches = try OrderRecord.filter(OrderRecord.Columns.id == name.id).order(OrderRecord.Columns.storefront).fetchAll(db)
        guard let first = matches.first else { throw EventLog.LookupError.unknown(name) }
        guard matches.count == 1 else { throw EventLog.LookupError.ambiguous(id: name.id, storefronts: matches.map(\.storefront)) }
        return first
    }
}
