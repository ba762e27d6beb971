import Foundation
import GRDB

/// The idempotency keys of storefront requests: claimed, answered, freed and pruned. The rules
/// (how long an answer lives, when a request is judged abandoned) are `IdempotencyStore`'s; the
/// store applies them in one transaction each.
extension SQLiteGatewayStore {
    /// Claims `key` for a request, or says why not: its stored answer, another request under the
    /// key, or the key still held. A key older than `lifetime`, or held longer than
    /// `abandonedAfter` by the same request, is taken over.
    func claimIdempotencyKey(
        storefront: String, key: String, requestHash: Data, now: Date, lifetime: TimeInterval, abandonedAfter: TimeInterval
    ) async throws -> IdempotencyStore.Begin {
        try await pool.write { db in
            if let existing = try IdempotencyRecord.fetchOne(db, key: ["storefront": storefront, "key": key]) {
                if let answer = existing.answer(to: requestHash, at: now, lifetime: lifetime, abandonedAfter: abandonedAfter) {
                    return answer
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

    /// Stores `answer` for the key `claim` holds, in its own transaction (an answer that records
    /// nothing else: a refusal, or a checkout made earlier).
    func storeAnswer(status: Int, body: Data, for claim: IdempotencyClaim) async throws {
        try await pool.write { db in try Self.storeAnswer(status: status, body: body, for: claim, in: db) }
    }

    /// Stores the answer in the caller's transaction, so it commits with what it answers for;
    /// throws `IdempotencyStore.ClaimLost` (rolling that transaction back) when the claim no longer
    /// holds the key.
    static func storeAnswer(status: Int, body: Data, for claim: IdempotencyClaim, in db: Database) throws {
        typealias Columns = IdempotencyRecord.Columns
        let updated =
            try IdempotencyRecord
            .filter(Columns.storefront == claim.storefront && Columns.key == claim.key && Columns.claim == claim.claim)
            .updateAll(
                db, Columns.state.set(to: IdempotencyRecord.State.completed.rawValue),
                Columns.responseStatus.set(to: status), Columns.responseBody.set(to: body))
        if updated != 1 { throw IdempotencyStore.ClaimLost() }
    }

    /// Frees a key still in progress, if `claim` still holds it.
    func releaseIdempotencyKey(_ claim: IdempotencyClaim) async throws {
        typealias Columns = IdempotencyRecord.Columns
        _ = try await pool.write { db in
            try IdempotencyRecord
                .filter(
                    Columns.storefront == claim.storefront && Columns.key == claim.key && Columns.claim == claim.claim
                        && Columns.state == IdempotencyRecord.State.inProgress.rawValue
                )
                .deleteAll(db)
        }
    }

    /// Deletes keys created before `cutoff`; returns how many.
    func pruneIdempotencyKeys(createdBefore cutoff: Date) async throws -> Int {
        try await pool.write { db in
            try IdempotencyRecord.filter(IdempotencyRecord.Columns.createdAt < cutoff).deleteAll(db)
        }
    }
}
