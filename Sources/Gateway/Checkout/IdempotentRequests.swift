import Foundation
import Logging

/// Idempotent execution of a storefront's POST, as Stripe and Fintoc document it: one run per
/// (storefront key, idempotency key), the answer stored in the transaction that commits what it
/// answers for, replayed afterwards.
struct IdempotentRequests: Sendable {
    typealias Answer = CheckoutService.Answer

    let idempotency: IdempotencyStore
    /// Called after a run that answered (its commit may have added outbox rows).
    let answered: @Sendable () -> Void
    let logger: Logger

    /// The request's Idempotency-Key, required on every POST: 1 to 255 visible ASCII characters.
    static func requireKey(_ key: String?) throws(APIError) -> String {
        guard let key, !key.isEmpty else {
            throw APIError(
                .badRequest, .idempotency, code: "idempotency_key_required",
                message: "POST requests need an Idempotency-Key header", param: "Idempotency-Key")
        }
        guard key.utf8.count <= IdempotencyStore.maxKeyLength, key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError(
                .badRequest, .idempotency, code: "idempotency_key_invalid",
                message: "the Idempotency-Key must be 1 to \(IdempotencyStore.maxKeyLength) visible ASCII characters",
                param: "Idempotency-Key")
        }
        return key
    }

    /// Runs `work` once per (storefront key, idempotency key): replays a stored answer, refuses a
    /// reused or in-flight key, and frees the key when `work` fails in a way worth retrying.
    /// `work` stores its answer with the claim it is given, in the transaction that commits what
    /// the answer is for.
    func run(
        storefront: Storefront, key: String, hash: Data, now: Date,
        _ work: (_ claim: IdempotencyClaim) async throws -> Answer
    ) async throws(APIError) -> Answer {
        let claim: String
        switch try await begin(storefront: storefront, key: key, hash: hash, now: now) {
        case .replay(let answer): return answer
        case .proceed(let held): claim = held
        }
        do {
            let answer = try await work(IdempotencyClaim(storefront: storefront.keyID, key: key, claim: claim))
            answered()
            return answer
        } catch let error as APIError {
            if error.status.code >= 500 || error.status == .notFound {
                await idempotency.release(storefront: storefront.keyID, key: key, claim: claim)
            }
            throw error
        } catch is IdempotencyStore.ClaimLost {
            // Taken over as abandoned: the request that holds the key now answers for it.
            throw APIError(
                .conflict, .idempotency, code: "idempotency_key_in_progress",
                message: "a request with this Idempotency-Key is being processed; retry shortly")
        } catch {
            await idempotency.release(storefront: storefront.keyID, key: key, claim: claim)
            logger.error("request could not be recorded", metadata: ["error": "\(error)"])
            throw CheckoutErrors.notRecorded()
        }
    }

    private enum Started {
        case proceed(claim: String)
        case replay(Answer)
    }

    private func begin(storefront: Storefront, key: String, hash: Data, now: Date) async throws(APIError) -> Started {
        let outcome: IdempotencyStore.Begin
        do {
            outcome = try await idempotency.begin(storefront: storefront.keyID, key: key, requestHash: hash, now: now)
        } catch {
            throw APIError(.internalServerError, .api, code: "internal_error", message: "the idempotency record could not be read")
        }
        switch outcome {
        case .proceed(let claim): return .proceed(claim: claim)
        case .replay(let status, let body): return .replay(Answer(status: status, body: body, replayed: true))
        case .reusedWithOtherRequest:
            throw APIError(
                .conflict, .idempotency, code: "idempotency_key_reused",
                message: "this Idempotency-Key was used with a different request; use a new key for a new request")
        case .inProgress:
            throw APIError(
                .conflict, .idempotency, code: "idempotency_key_in_progress",
                message: "a request with this Idempotency-Key is still being processed; retry shortly")
        }
    }
}
