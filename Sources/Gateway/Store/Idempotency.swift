import Crypto
import Fintoc
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
    /// A request still `in_progress` after this long died with its process; its key is free for
    /// the same request. Longer than the longest a live request can take (its Fintoc call with
    /// every retry), so a slow request is never taken over.
    var abandonedAfter: TimeInterval = 120

    enum Begin: Sendable, Equatable {
        /// No answer yet: go on, then `complete` or `release` with this claim.
        case proceed(claim: String)
        case replay(status: Int, body: Data)
        case reusedWithOtherRequest
        case inProgress
    }

    /// The claim was lost: the key was taken over (its request judged abandoned) or expired.
    struct ClaimLost: Error {}

    func begin(storefront: String, key: String, requestHash: Data, now: Date) async throws -> Begin {
        try await database.pool.write { db in
            if let existing = try IdempotencyRecord.fetchOne(db, key: ["storefront": storefront, "key": key]) {
                let age = now.timeIntervalSince(existing.createdAt)
                if age <= lifetime {
                    // Another request under a live key is a conflict, however long the first one runs.
                    guard existing.requestHash == requestHash else { return .reusedWithOtherRequest }
                    if existing.state == .completed, let status = existing.responseStatus, let body = existing.responseBody {
                        return .replay(status: status, body: body)
                    }
                    guard age > abandonedAfter else { return .inProgress }
                }
                try existing.delete(db)
            }
            let claim = RandomID.base62(count: 16)
            try IdempotencyRecord(
                storefront: storefront, key: key, requestHash: requestHash, state: .inProgress,
                responseStatus: nil, responseBody: nil, createdAt: now, claim: claim
            ).insert(db)
            return .proceed(claim: claim)
        }
    }

    /// Stores the answer, in the caller's transaction so it commits with what it answers for;
    /// throws `ClaimLost` (rolling that transaction back) when `claim` no longer holds the key.
    func complete(storefront: String, key: String, claim: String, status: Int, body: Data, in db: Database) throws {
        let updated = try IdempotencyRecord
            .filter(Column("storefront") == storefront && Column("key") == key && Column("claim") == claim)
            .updateAll(db, Column("state").set(to: IdempotencyRecord.State.completed.rawValue),
                       Column("response_status").set(to: status), Column("response_body").set(to: body))
        if updated != 1 { throw ClaimLost() }
    }

    /// Frees the key after a failure that must not be replayed (Fintoc down, an internal error),
    /// so the storefront's retry with the same key tries again. Only the claim's holder frees it.
    func release(storefront: String, key: String, claim: String) async {
        _ = try? await database.pool.write { db in
            try IdempotencyRecord
                .filter(Column("storefront") == storefront && Column("key") == key && Column("claim") == claim
                    && Column("state") == IdempotencyRecord.State.inProgress.rawValue)
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

    /// Longer than any live request can take: every Fintoc attempt at its timeout, every wait
    /// between them at its cap, and a minute of margin for the rest of the request.
    static func abandonedAfter(for fintoc: FintocClientConfiguration) -> TimeInterval {
        let attempts = Double(fintoc.retry.maxAttempts)
        return attempts * fintoc.requestTimeout.seconds + (attempts - 1) * fintoc.retry.maxDelay.seconds + 60
    }

    static func hash(_ data: Data) -> Data {
        Data(SHA256.hash(data: data))
    }
}

extension Duration {
    var seconds: TimeInterval {
        let (whole, attoseconds) = components
        return TimeInterval(whole) + TimeInterval(attoseconds) / 1e18
    }
}
