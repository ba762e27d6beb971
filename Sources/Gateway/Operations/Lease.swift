import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One of the gateway's singletons (the outbox relay, reconciliation, the idempotency janitor)
/// runs in one process at a time: the one holding its named lease in the store. A holder renews
/// the lease while it works; one that stops cleanly gives it back, and one that vanishes loses
/// it when it lapses, `duration` after its last renewal, and another replica takes it then.
///
/// On SQLite the one gateway process always holds it. On PostgreSQL the database's clock times
/// it. Believing a lease held for up to `renewEvery` after asking can overlap a lapsed holder's
/// last round with its successor's first; for the relay that means an event published twice,
/// never one out of order (docs/architecture.md, "Store engines").
final class Lease: Sendable {
    let name: String
    /// How long the lease lasts without a renewal: how long a vanished holder's work waits.
    let duration: Duration
    /// How long an answer from the store is trusted before asking again.
    let renewEvery: Duration
    private let store: GatewayStore
    private let holder: String

    /// Who holds it when this process does (as the store records it).
    var holderName: String { holder }
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let last = Mutex<(askedAt: ContinuousClock.Instant, held: Bool)?>(nil)

    /// This process, as lease holders are named: host, process id and a random part (a
    /// restarted process with a reused pid is another holder).
    static let processHolder: String = {
        // gethostname, not ProcessInfo.hostName, which may wait on a DNS lookup.
        var name = [CChar](repeating: 0, count: 256)
        let host =
            gethostname(&name, name.count) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "host"
        return "\(host)/\(ProcessInfo.processInfo.processIdentifier)/\(RandomID.base62(count: 8))"
    }()

    /// A lease's name and timing.
    struct Terms: Sendable {
        let name: String
        let duration: Duration
        let renewEvery: Duration

        /// The outbox relay: renewed every second, so a vanished holder's events wait about 5 s.
        static let relay = Terms(name: "outbox_relay", duration: .seconds(5), renewEvery: .seconds(1))

        /// Reconciliation, whose passes are `every` apart: held across the wait between passes
        /// (and renewed during a long one), so one replica keeps it while it lives.
        static func reconciler(every interval: TimeInterval) -> Terms {
            let interval = max(interval, 1)
            return Terms(name: "reconciler", duration: .seconds(2 * interval + 30), renewEvery: .seconds(min(interval, 10)))
        }

        /// The idempotency janitor, which runs `every` apart.
        static func idempotencyJanitor(every interval: Duration) -> Terms {
            Terms(name: "idempotency_janitor", duration: interval * 2 + .seconds(60), renewEvery: interval)
        }
    }

    init(_ terms: Terms, store: GatewayStore, holder: String = Lease.processHolder, metrics: GatewayMetrics, logger: Logger) {
        precondition(terms.renewEvery < terms.duration, "a lease is renewed before it lapses")
        name = terms.name
        self.store = store
        duration = terms.duration
        renewEvery = terms.renewEvery
        self.holder = holder
        self.metrics = metrics
        self.logger = logger
    }

    /// Whether this process holds the lease now; takes or renews it when the last answer is
    /// older than `renewEvery`. A store that cannot be reached counts as not held.
    func isHeld() async -> Bool {
        let asked = ContinuousClock.now
        if let known = last.withLock({ $0 }), asked - known.askedAt < renewEvery { return known.held }
        let held: Bool
        do {
            held = try await store.takeLease(name, holder: holder, for: duration)
        } catch {
            logger.warning("lease could not be renewed", metadata: ["lease": "\(name)", "error": "\(error)"])
            held = false
        }
        let before = last.withLock { state -> Bool? in
            defer { state = (asked, held) }
            return state?.held
        }
        if before != held {
            logger.info(held ? "lease taken: running here" : "lease held elsewhere", metadata: ["lease": "\(name)", "holder": "\(holder)"])
            metrics.lease(name, held: held)
        }
        return held
    }

    /// Gives the lease back (at a graceful stop), so another replica takes it at once.
    func release() async {
        guard
            last.withLock({ state in
                defer { state = nil }
                return state?.held == true
            })
        else { return }
        do {
            try await store.releaseLease(name, holder: holder)
            metrics.lease(name, held: false)
            logger.info("lease released", metadata: ["lease": "\(name)"])
        } catch {
            logger.warning("lease could not be released; it lapses on its own", metadata: ["lease": "\(name)", "error": "\(error)"])
        }
    }
}
