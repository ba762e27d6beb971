import Foundation
import GRDB

/// Storefront API keys, stored as hashes.
extension SQLiteGatewayStore {
    func insertKey(_ record: StorefrontKeyRecord) async throws {
        try await pool.write { db in try record.insert(db) }
    }

    /// Makes the configured keys (SHA-256 hash → storefront name) the active environment keys,
    /// in one transaction: new ones are added, ones no longer configured are revoked, a renamed
    /// one is renamed. A key an operator revoked stays revoked, even while still configured: a
    /// restart must not bring a leaked key back. CLI keys are left alone.
    ///
    /// `makeKey` builds the row of a key seen for the first time.
    func syncEnvironmentKeys(
        wanted: [Data: String], now: Date, makeKey: @escaping @Sendable (_ hash: Data, _ name: String) -> StorefrontKeyRecord
    ) async throws {
        try await pool.write { db in
            let existing =
                try StorefrontKeyRecord
                .filter(StorefrontKeyRecord.Columns.source == StorefrontKeyRecord.Source.environment.rawValue).fetchAll(db)
            for var record in existing where record.revokedAt == nil && wanted[record.keyHash] != record.name {
                record.revokedAt = now
                try record.update(db)
            }
            for (hash, name) in wanted {
                if var record = existing.first(where: { $0.keyHash == hash }) {
                    guard record.revokedAt == nil, record.name != name else { continue }
                    record.name = name
                    try record.update(db)
                } else {
                    try makeKey(hash, name).insert(db)
                }
            }
        }
    }

    /// Every key, revoked ones included, newest first.
    func allKeys() async throws -> [StorefrontKeyRecord] {
        try await pool.read { db in try StorefrontKeyRecord.order(StorefrontKeyRecord.Columns.createdAt.desc).fetchAll(db) }
    }

    /// Revokes the active key `id`; false when there is no such active key.
    func revokeKey(id: String, now: Date) async throws -> Bool {
        let changed = try await pool.write { db in
            try StorefrontKeyRecord.filter(id: id).filter(StorefrontKeyRecord.Columns.revokedAt == nil)
                .updateAll(db, StorefrontKeyRecord.Columns.revokedAt.set(to: now))
        }
        return changed > 0
    }

    /// The keys not revoked, for authentication.
    func activeKeys() async throws -> [StorefrontKeyRecord] {
        try await pool.read { db in try StorefrontKeyRecord.filter(StorefrontKeyRecord.Columns.revokedAt == nil).fetchAll(db) }
    }
}
