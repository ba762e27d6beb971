import Foundation
import PaymentsCore
import PostgresNIO
import PostgresSupport

/// Idempotency keys, Fintoc customers and storefront API keys (`GatewayStore` says what each
/// operation does). Where SQLite reads and then writes under its one writer, these write first
/// and let the primary key decide which of two replicas' requests wins.
extension PostgresGatewayStore {
    func claimIdempotencyKey(
        storefront: String, key: String, requestHash: Data, now: Date, lifetime: TimeInterval, abandonedAfter: TimeInterval
    ) async throws -> IdempotencyStore.Begin {
        let logger = logger
        return try await transaction("claim an idempotency key") { connection -> IdempotencyStore.Begin in
            let claim = RandomID.base62(count: 16)
            let inserted = try await connection.count(
                """
                INSERT INTO idempotency_key (storefront, key, request_hash, state, created_at, claim)
                VALUES (\(storefront), \(key), \(requestHash), \(IdempotencyRecord.State.inProgress.rawValue), \(now), \(claim))
                ON CONFLICT (storefront, key) DO NOTHING RETURNING 1
                """, logger: logger)
            if inserted == 1 { return .proceed(claim: claim) }
            // Another request holds or answered the key: its row, locked until this commits.
            let existing = try await connection.records(
                "SELECT * FROM idempotency_key WHERE storefront = \(storefront) AND key = \(key) FOR UPDATE", logger: logger,
                IdempotencyRecord.init(columns:)
            ).first
            if let answer = existing?.answer(to: requestHash, at: now, lifetime: lifetime, abandonedAfter: abandonedAfter) {
                return answer
            }
            // Expired, abandoned, or deleted meanwhile: the key is this request's now.
            try await connection.execute(
                """
                INSERT INTO idempotency_key (storefront, key, request_hash, state, created_at, claim)
                VALUES (\(storefront), \(key), \(requestHash), \(IdempotencyRecord.State.inProgress.rawValue), \(now), \(claim))
                ON CONFLICT (storefront, key) DO UPDATE SET request_hash = excluded.request_hash, state = excluded.state,
                  response_status = NULL, response_body = NULL, created_at = excluded.created_at, claim = excluded.claim
                """, logger: logger)
            return .proceed(claim: claim)
        }
    }

    func storeAnswer(status: Int, body: Data, for claim: IdempotencyClaim) async throws {
        let logger = logger
        try await transaction("store an idempotent answer") { connection in
            try await Self.storeAnswer(status: status, body: body, for: claim, on: connection, logger: logger)
        }
    }

    /// Stores the answer in the caller's transaction; throws `IdempotencyStore.ClaimLost`
    /// (rolling it back) when the claim no longer holds the key.
    static func storeAnswer(status: Int, body: Data, for claim: IdempotencyClaim, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        let updated = try await connection.count(
            """
            UPDATE idempotency_key SET state = \(IdempotencyRecord.State.completed.rawValue), response_status = \(Int64(status)),
              response_body = \(body)
            WHERE storefront = \(claim.storefront) AND key = \(claim.key) AND claim = \(claim.claim) RETURNING 1
            """, logger: logger)
        if updated != 1 { throw IdempotencyStore.ClaimLost() }
    }

    func releaseIdempotencyKey(_ claim: IdempotencyClaim) async throws {
        let logger = logger
        try await transaction("free an idempotency key") { connection in
            try await connection.execute(
                """
                DELETE FROM idempotency_key
                WHERE storefront = \(claim.storefront) AND key = \(claim.key) AND claim = \(claim.claim)
                  AND state = \(IdempotencyRecord.State.inProgress.rawValue)
                """, logger: logger)
        }
    }

    func pruneIdempotencyKeys(createdBefore cutoff: Date) async throws -> Int {
        let logger = logger
        return try await transaction("prune idempotency keys") { connection in
            try await connection.count("DELETE FROM idempotency_key WHERE created_at < \(cutoff) RETURNING 1", logger: logger)
        }
    }
}

extension PostgresGatewayStore {
    func customerReference(checkoutID: String, mode: String, taxID: TaxID, normalized: String, now: Date) async throws -> CustomerReference
    {
        let logger = logger
        return try await transaction("choose a Fintoc customer reference") { connection -> CustomerReference in
            // The first choice for this request stands: insert it unless one is there, then read
            // whichever is.
            try await connection.execute(
                """
                INSERT INTO checkout_customer_choice (checkout_id, customer_id, created_at)
                SELECT \(checkoutID), (SELECT customer_id FROM fintoc_customer
                                       WHERE mode = \(mode) AND tax_id_type = \(taxID.type.rawValue) AND tax_id = \(normalized)), \(now)
                ON CONFLICT (checkout_id) DO NOTHING
                """, logger: logger)
            var chosen: String?
            for try await customerID in try await connection.query(
                "SELECT customer_id FROM checkout_customer_choice WHERE checkout_id = \(checkoutID)", logger: logger
            ).decode(String?.self) {
                chosen = customerID
            }
            return chosen.map(CustomerReference.existing) ?? .data
        }
    }

    func chooseCustomer(_ reference: CustomerReference, checkoutID: String, now: Date) async throws {
        let logger = logger
        try await transaction("record a Fintoc customer choice") { connection in
            try await connection.execute(
                """
                INSERT INTO checkout_customer_choice (checkout_id, customer_id, created_at) VALUES (\(checkoutID), \(reference.customerID), \(now))
                ON CONFLICT (checkout_id) DO UPDATE SET customer_id = excluded.customer_id, created_at = excluded.created_at
                """, logger: logger)
        }
    }

    func forgetCustomer(customerID: String, checkoutID: String) async throws {
        let logger = logger
        try await transaction("forget a Fintoc customer") { connection in
            try await connection.execute("DELETE FROM fintoc_customer WHERE customer_id = \(customerID)", logger: logger)
            try await connection.execute("DELETE FROM checkout_customer_choice WHERE checkout_id = \(checkoutID)", logger: logger)
        }
    }

    /// In the transaction that records the checkout: remember its customer, and drop the choice.
    static func customerRecorded(
        checkoutID: String, mode: String, taxID: TaxID?, customerID: String?, now: Date, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.execute("DELETE FROM checkout_customer_choice WHERE checkout_id = \(checkoutID)", logger: logger)
        guard let taxID, let normalized = taxID.normalizedValue, let customerID else { return }
        try await connection.execute(
            """
            INSERT INTO fintoc_customer (mode, tax_id_type, tax_id, customer_id, updated_at)
            VALUES (\(mode), \(taxID.type.rawValue), \(normalized), \(customerID), \(now))
            ON CONFLICT (mode, tax_id_type, tax_id) DO UPDATE SET customer_id = excluded.customer_id, updated_at = excluded.updated_at
            """, logger: logger)
    }

    func pruneCustomerChoices(createdBefore cutoff: Date) async throws -> Int {
        let logger = logger
        return try await transaction("prune Fintoc customer choices") { connection in
            try await connection.count("DELETE FROM checkout_customer_choice WHERE created_at < \(cutoff) RETURNING 1", logger: logger)
        }
    }
}

extension PostgresGatewayStore {
    func insertKey(_ record: StorefrontKeyRecord) async throws {
        let logger = logger
        try await transaction("create a storefront key") { connection in
            try await Self.insert(record, on: connection, logger: logger)
        }
    }

    private static func insert(_ record: StorefrontKeyRecord, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute(
            """
            INSERT INTO storefront_key (id, name, key_hash, key_prefix, source, created_at, revoked_at)
            VALUES (\(record.id), \(record.name), \(record.keyHash), \(record.keyPrefix), \(record.source.rawValue), \(record.createdAt),
              \(record.revokedAt))
            """, logger: logger)
    }

    /// Replicas starting together sync one after the other, under a transaction lock, so each
    /// sees what the one before wrote and a key is added once.
    func syncEnvironmentKeys(
        wanted: [Data: String], now: Date, makeKey: @escaping @Sendable (_ hash: Data, _ name: String) -> StorefrontKeyRecord
    ) async throws {
        let logger = logger
        try await transaction("sync the configured storefront keys") { connection in
            try await connection.execute("SELECT pg_advisory_xact_lock(\(LockSpace.keys), 0)", logger: logger)
            let existing = try await connection.records(
                "SELECT * FROM storefront_key WHERE source = \(StorefrontKeyRecord.Source.environment.rawValue)", logger: logger,
                StorefrontKeyRecord.init(columns:))
            for record in existing where record.revokedAt == nil && wanted[record.keyHash] != record.name {
                try await connection.execute("UPDATE storefront_key SET revoked_at = \(now) WHERE id = \(record.id)", logger: logger)
            }
            for (hash, name) in wanted {
                if let record = existing.first(where: { $0.keyHash == hash }) {
                    guard record.revokedAt == nil, record.name != name else { continue }
                    try await connection.execute("UPDATE storefront_key SET name = \(name) WHERE id = \(record.id)", logger: logger)
                } else {
                    try await Self.insert(makeKey(hash, name), on: connection, logger: logger)
                }
            }
        }
    }

    func allKeys() async throws -> [StorefrontKeyRecord] {
        let logger = logger
        return try await snapshot("list storefront keys") { connection in
            try await connection.records(
                "SELECT * FROM storefront_key ORDER BY created_at DESC", logger: logger, StorefrontKeyRecord.init(columns:))
        }
    }

    func revokeKey(id: String, now: Date) async throws -> Bool {
        let logger = logger
        return try await transaction("revoke a storefront key") { connection in
            try await connection.count(
                "UPDATE storefront_key SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL RETURNING 1", logger: logger) > 0
        }
    }

    func activeKeys() async throws -> [StorefrontKeyRecord] {
        let logger = logger
        return try await snapshot("read storefront keys") { connection in
            try await connection.records(
                "SELECT * FROM storefront_key WHERE revoked_at IS NULL", logger: logger, StorefrontKeyRecord.init(columns:))
        }
    }
}
