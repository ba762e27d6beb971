import Crypto
import Fintoc
import Foundation
import ServiceRuntime

/// Storefront idempotency, as Stripe and Fintoc document it: the first answer to a key is stored
/// and replayed; the same key with another body is a conflict; a key still being worked on is a
/// conflict; keys are scoped to the storefront key and forgotten after `lifetime`.
///
/// This type holds the rules (how long, when abandoned); `GatewayStore` applies them.
struct IdempotencyStore: Sendable {
    static let maxKeyLength = 255

    let store: GatewayStore
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
        try await store.claimIdempotencyKey(
            storefront: storefront, key: key, requestHash: requestHash, now: now, lifetime: lifetime, abandonedAfter: abandonedAfter)
    }

    /// Frees the key after a failure that must not be replayed (Fintoc down, an internal error),
    /// so the storefront's retry with the same key tries again. Only the claim's holder frees it.
    func release(storefront: String, key: String, claim: String) async {
        try? await store.releaseIdempotencyKey(IdempotencyClaim(storefront: storefront, key: key, claim: claim))
    }

    /// Deletes answers older than `lifetime`; returns how many.
    @discardableResult
    func purgeExpired(now: Date) async throws -> Int {
        try await store.pruneIdempotencyKeys(createdBefore: now.addingTimeInterval(-lifetime))
    }

    /// Longer than any live request can take: every Fintoc attempt at its timeout, every wait
    /// between them at its cap, and a minute of margin for the rest of the request.
    static func abandonedAfter(for fintoc: FintocClientConfiguration) -> TimeInterval {
        let attempts = Double(fintoc.retry.maxAttempts)
        return attempts * fintoc.requestTimeout.timeInterval + (attempts - 1) * fintoc.retry.maxDelay.timeInterval + 60
    }

    static func hash(_ data: Data) -> Data {
        Data(SHA256.hash(data: data))
    }
}

extension IdempotencyRecord {
    /// What a request with `requestHash` is told about this stored key at `now`: its answer
    /// replayed, a conflict, or still in flight. Nil when the key is the request's to take over:
    /// older than `lifetime`, or held longer than `abandonedAfter` by the same request.
    func answer(to requestHash: Data, at now: Date, lifetime: TimeInterval, abandonedAfter: TimeInterval) -> IdempotencyStore.Begin? {
        let age = now.timeIntervalSince(createdAt)
        guard age <= lifetime else { return nil }
        // Another request under a live key is a conflict, however long the first one runs.
        guard self.requestHash == requestHash else { return .reusedWithOtherRequest }
        if state == .completed, let responseStatus, let responseBody {
            return .replay(status: responseStatus, body: responseBody)
        }
        return age > abandonedAfter ? nil : .inProgress
    }
}
