import Foundation
import Hummingbird

/// The first answer given for an `Idempotency-Key`, replayed for the same key and body.
struct IdempotencyRecord: Sendable {
    var fingerprint: String
    var createdAt: Date
    /// Nil while the first request is still being answered.
    var response: StoredResponse?
}

struct StoredResponse: Sendable {
    var status: HTTPResponse.Status
    var body: Data
}

enum IdempotencyDecision: Sendable {
    case proceed
    case replay(StoredResponse)
    case mismatch
    case inFlight
}

extension SandboxStore {
    /// Keys are forgotten after this long, as Fintoc may.
    static let idempotencyRetention: TimeInterval = 24 * 3600

    /// Claims `key` for a request whose method, path and body hash to `fingerprint`.
    func beginIdempotent(key: String, fingerprint: String) -> IdempotencyDecision {
        let cutoff = now().addingTimeInterval(-Self.idempotencyRetention)
        // A forgotten key is free again; the sweeper deletes such records in bulk.
        guard let record = idempotency[key], record.createdAt > cutoff else {
            idempotency[key] = IdempotencyRecord(fingerprint: fingerprint, createdAt: now(), response: nil)
            return .proceed
        }
        guard record.fingerprint == fingerprint else { return .mismatch }
        guard let response = record.response else { return .inFlight }
        return .replay(response)
    }

    func finishIdempotent(key: String, response: StoredResponse) {
        idempotency[key]?.response = response
    }

    /// Deletes idempotency records past retention and login tickets past the token lifetime.
    func pruneExpired(now current: Date) {
        let keysCutoff = current.addingTimeInterval(-Self.idempotencyRetention)
        idempotency = idempotency.filter { $0.value.createdAt > keysCutoff }
        let ticketsCutoff = current.addingTimeInterval(-configuration.tokenLifetime)
        loginTickets = loginTickets.filter { $0.value.createdAt > ticketsCutoff }
    }
}
