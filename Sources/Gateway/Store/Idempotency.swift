import Crypto
import Foundation
import GRDB

/// Storefront idempotency, as Stripe and Fintoc document it: the first answer to a key is stored
/// and replayed; the same key with another body is a conflict; a key still being worked on is a
/// conflict; keys are scoped to the storefront key and forgotten after `lifetime`.
struct IdempotencyStore: Sendable {
    static let maxKeyLength = 255

    let database: GatewayDatabase
    /// How long an answer is replayed.
    var lifetime: TimeInterval = 24 * 3600
    /// A request still `in_progress` after this long died with its process; its key is free.
    var abandonedAfter: TimeInterval = 120

    enum Begin: Sendable, Equatable {
        /// No answer yet: go on, then `complete` or `release`.
        case proceed
        case replay(status: Int, body: Data)
        case reusedWithOtherRequest
        case inProgress
    }

    func begin(storefront: String, key: String, requestHash: Data, now: Date) async throws -> Begin {
        try await database.pool.write { db in
            if let existing = try IdempotencyRecord.fetchOne(db, key: ["storefront": storefront, "key": key]) {
                let age = now.timeIntervalSince(existing.createdAt)
                let forgotten = age > lifetime || (existing.state == .inProgress && age > abandonedAfter)
                if !forgotten {
                    guard existing.requestHash == requestHash else { return .reusedWithOtherRequest }
                    guard existing.state == .completed, let status = existing.responseStatus, let body = existing.responseBody else {
                        return .inProgress
                    }
                    return .replay(status: status, body: body)
                }
                try existing.delete(db)
            }
            try IdempotencyRecord(
                storefront: storefront, key: key, requestHash: requestHash, state: .inProgress,
                responseStatus: nil, responseBody: nil, createdAt: now
            ).insert(db)
            return .proceed
        }
    }

    /// Stores the answer, in the caller's transaction so it commits with what it answers for.
    func complete(storefront: String, key: String, status: Int, body: Data, in db: Database) throws {
        try IdempotencyRecord
            .filter(Column("storefront") == storefront && Column("key") == key)
            .updateAll(db, Column("state").set(to: IdempotencyRecord.State.completed.rawValue),
                       Column("response_status").set(to: status), Column("response_body").set(to: body))
    }

    /// Frees the key after a failure that must not be replayed (Fintoc down, an internal error),
    /// so the storefront's retry with the same key tries again.
    func release(storefront: String, key: String) async {
        _ = try? await database.pool.write { db in
            try IdempotencyRecord
                .filter(Column("storefront") == storefront && Column("key") == key && Column("state") == IdempotencyRecord.State.inProgress.rawValue)
                .deleteAll(db)
        }
    }

    /// Deletes answers older than `lifetime`; returns how many.
    @discardableResult
    func purgeExpired(now: Date) async throws -> Int {
        try await database.pool.write { db in
            try IdempotencyRecord.filter(Column("created_at") < now.addingTimeInterval(-lifetime)).deleteAll(db)
        }
    }

    static func hash(_ data: Data) -> Data {
        Data(SHA256.hash(data: data))
    }
}
