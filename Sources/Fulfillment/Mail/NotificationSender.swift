import AMQP
import Foundation
import Logging
import PaymentsCore
import ServiceLifecycle
import ServiceRuntime

/// Delivers the notification outbox (docs/architecture.md rule 8): due rows in order, each through the
/// transport; a failure pushes the row back by a delay that doubles per failed attempt, up to
/// a cap, so a dead SMTP server is retried patiently and never flooded. A row is sent at most
/// once: after the server accepted it, it is marked sent before anything else happens (for
/// SMTP at once; `.eml` files, which a resend only overwrites, in batches). The one window left
/// is a crash between the server's acceptance and that commit, where the email may go twice
/// with the same `Message-ID`.
final class NotificationSender: Service, Sendable {
    let store: FulfillmentStore
    let transport: any MailTransport
    let from: MailAddress
    let signal: WakeSignal
    let metrics: WorkerMetrics
    let initialDelay: Duration
    let maxDelay: Duration
    let logger: Logger
    /// Rows taken per round; `.eml` files are marked sent once per round.
    let batchSize = 256
    let loop: ServiceLoop

    init(
        store: FulfillmentStore, transport: any MailTransport, from: MailAddress, signal: WakeSignal, metrics: WorkerMetrics,
        initialDelay: Duration, maxDelay: Duration, logger: Logger
    ) {
        self.store = store
        self.transport = transport
        self.from = from
        self.signal = signal
        self.metrics = metrics
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.logger = logger
        // Failures back off per row (`delay(afterAttempts:)`), not per round.
        loop = ServiceLoop(wake: signal, backoff: Backoff(base: initialDelay, cap: maxDelay))
    }

    private var isStopping: Bool { loop.isStopping }

    func run() async throws {
        await loop.run(logger: logger, failure: "email sender failed") { await self.round() }
    }

    /// The delay after the `attempts`-th failure: doubling from `initialDelay`, capped.
    func delay(afterAttempts attempts: Int) -> Duration {
        Backoff(base: initialDelay, cap: maxDelay).ceiling(attempt: attempts - 1)
    }

    private enum Result: Sendable {
        case sent(Int64)
        case failed(Int64, attempts: Int, error: MailError)
        case untried(Int64)
    }

    /// Sends what is due, in order; when nothing is, sleeps until the next row falls due (a
    /// second at the most) or a commit queues a new one.
    private func round() async -> ServiceLoop.Round {
        do {
            let now = Date()
            let rows = try await store.claimDueNotifications(at: now, limit: batchSize)
            guard !rows.isEmpty else {
                let next = try await store.nextNotificationDue()
                let wait = next.map { max(0.01, min(1, $0.timeIntervalSinceNow)) } ?? 1
                return .idle(timeout: .milliseconds(Int64(wait * 1000)))
            }
            var pending: [Result] = []
            var attempted = 0
            let started = ContinuousClock.now
            for row in rows {
                // Past a third of the claim's lease, the rest goes back rather than outlive it.
                if isStopping || ContinuousClock.now - started > FulfillmentStore.notificationClaimLease / 3 { break }
                let result = await send(row)
                attempted += 1
                pending.append(result)
                if !transport.isIdempotent {
                    try await record(pending)
                    pending = []
                }
                if case .failed(_, attempts: _, error: .transient) = result { break }  // the server is likely down: back off
            }
            // Rows claimed but not tried go back at once, for this sender or another replica's.
            pending += rows.dropFirst(attempted).map { .untried($0.id) }
            try await record(pending)
            return .worked
        } catch {
            logger.error("email sender failed to read or mark rows", metadata: ["error": "\(error)"])
            return .idle(timeout: .seconds(1))
        }
    }

    private func send(_ row: NotificationRecord) async -> Result {
        let mail = OutgoingMail(messageID: row.messageID, from: from.address, recipients: [row.recipient], message: row.message)
        do {
            try await transport.send(mail)
            metrics.emailSent()
            logger.debug(
                "email sent",
                metadata: [
                    "storefront": "\(row.storefront)", "order_id": "\(row.orderID)", "kind": "\(row.kind)",
                    "message_id": "\(row.messageID)",
                ])
            return .sent(row.id)
        } catch {
            metrics.emailFailed()
            logger.debug(
                "email not sent",
                metadata: [
                    "storefront": "\(row.storefront)", "order_id": "\(row.orderID)", "kind": "\(row.kind)",
                    "attempt": "\(row.attempts + 1)", "error": "\(error)",
                ])
            return .failed(row.id, attempts: row.attempts + 1, error: error)
        }
    }

    private func record(_ results: [Result]) async throws {
        guard !results.isEmpty else { return }
        let now = Date()
        let marks = results.map { result -> NotificationMark in
            switch result {
            case .sent(let id):
                .sent(id: id)
            case .failed(let id, let attempts, error: .permanent(let reason)):
                .failed(id: id, attempts: attempts, reason: reason)
            case .failed(let id, let attempts, error: .transient(let reason)):
                .retry(
                    id: id, attempts: attempts, reason: reason,
                    nextAttemptAt: now.addingTimeInterval(delay(afterAttempts: attempts).timeInterval))
            case .untried(let id):
                .untried(id: id)
            }
        }
        try await store.markNotifications(marks, at: now)
    }
}
