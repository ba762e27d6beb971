import AMQP
import Logging
import ServiceLifecycle
import Synchronization

/// The life of a background service (an outbox relay, the consumer, the email sender): rounds of
/// work, one after another, until graceful shutdown; an idle wait that a `WakeSignal` cuts short
/// when a commit gave the service work; a back-off after failures that only shutdown cuts short.
///
/// Failures are counted while they come one after another, and reset by any round that worked
/// or found nothing to do, so the back-off grows through an outage and starts small after it.
public final class ServiceLoop: Sendable {
    /// What came of one round, and so what the loop does next.
    public enum Round: Sendable {
        /// Work was done: go again at once, there may be more.
        case worked
        /// Nothing to do: wait for the wake signal, or `timeout` at the most.
        case idle(timeout: Duration)
        /// The round could not work (the broker is unreachable, a publish was not confirmed):
        /// back off. New work does not cut the pause short, or an outage would turn every commit
        /// into a reconnection attempt.
        case failed
    }

    /// Notified by whoever gives the service work; the loop also wakes itself on shutdown.
    public let wake: WakeSignal
    public let backoff: Backoff
    private let stopping = Mutex(false)

    public init(wake: WakeSignal = WakeSignal(), backoff: Backoff) {
        self.wake = wake
        self.backoff = backoff
    }

    /// Whether shutdown has begun (or the task was cancelled).
    public var isStopping: Bool { stopping.withLock { $0 } || Task.isCancelled }

    /// Runs `round` until graceful shutdown. A round that throws is logged as `failure` and
    /// counts as failed. `onShutdown` runs when shutdown begins, for a service with more to stop
    /// than its loop (the consumer finishes the batch in hand).
    public func run(
        logger: Logger, failure: Logger.Message,
        onShutdown: @escaping @Sendable () -> Void = {},
        _ round: @escaping @Sendable () async throws -> Round
    ) async {
        await withGracefulShutdownHandler {
            var failures = 0
            while !self.isStopping {
                let outcome: Round
                do {
                    outcome = try await round()
                } catch {
                    logger.error(failure, metadata: ["error": "\(error)"])
                    outcome = .failed
                }
                switch outcome {
                case .worked:
                    failures = 0
                case .idle(let timeout):
                    failures = 0
                    await self.wake.wait(timeout: timeout)
                case .failed:
                    failures += 1
                    await self.pause(self.backoff.delay(attempt: failures))
                }
            }
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
            onShutdown()
            self.wake.notify()
        }
    }

    /// Sleeps for `duration`, returning early only when shutdown begins.
    public func pause(_ duration: Duration) async {
        let deadline = ContinuousClock.now + duration
        while !isStopping, ContinuousClock.now < deadline {
            await wake.wait(timeout: deadline - ContinuousClock.now)
        }
    }
}
