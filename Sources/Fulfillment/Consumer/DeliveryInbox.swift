import AMQP
import Foundation
import PaymentsCore
import Synchronization

/// A delivery with its body already read as an event (or the reason it is not one), and the
/// work on it that needs no database.
struct InboundMessage: Sendable {
    let delivery: Delivery
    let envelope: Result<EventEnvelope, EnvelopeError>
    let prepared: EventApplier.Prepared

    /// Decodes, checks and prepares; done by the reading task, so it overlaps the processor's
    /// database work on the previous batch.
    init(_ delivery: Delivery, applier: EventApplier) {
        self.delivery = delivery
        do {
            let envelope = try EventEnvelope.decode(delivery.body)
            self.envelope = .success(envelope)
            prepared = applier.prepare(envelope, now: Date())
        } catch {
            envelope = .failure(error)
            prepared = EventApplier.Prepared()
        }
    }
}

/// Deliveries received but not yet processed, between the task that reads the consumer and the
/// one that applies them, so the processor can take everything that arrived meanwhile as one
/// batch (one SQLite commit for many messages) instead of one message per commit.
final class DeliveryInbox: Sendable {
    private struct State {
        var items: [InboundMessage] = []
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Keeps `message` for the processor; after `finish` (shutdown) it is left unsettled, so
    /// the broker hands it to the next consumer when this one's channel closes.
    func push(_ message: InboundMessage) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            state.items.append(message)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// No more deliveries will come (the consumer ended or shutdown began).
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Up to `max` deliveries in arrival order, waiting for the first; nil once finished and
    /// empty. One caller at a time.
    func next(max: Int) async -> [InboundMessage]? {
        while true {
            let (taken, finished) = state.withLock { state -> ([InboundMessage]?, Bool) in
                guard !state.items.isEmpty else { return (nil, state.finished) }
                let count = min(max, state.items.count)
                defer { state.items.removeFirst(count) }
                return (Array(state.items.prefix(count)), false)
            }
            if let taken { return taken }
            if finished { return nil }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.items.isEmpty || state.finished { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Everything still buffered, for a final drain.
    func takeAll() -> [InboundMessage] {
        state.withLock { state in
            defer { state.items.removeAll() }
            return state.items
        }
    }
}
