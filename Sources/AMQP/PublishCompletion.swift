import Synchronization

/// Whom to tell how one publish ended: a single caller, or one slot of an ordered batch.
enum PublishCompletion: Sendable {
    case single(CheckedContinuation<PublishOutcome, Never>)
    case batch(PublishBatch, index: Int)

    func resume(returning outcome: PublishOutcome) {
        switch self {
        case .single(let continuation): continuation.resume(returning: outcome)
        case .batch(let batch, let index): batch.settle(index, outcome)
        }
    }
}

/// The outcomes of a batch of publishes, handed to the caller once every one is settled.
final class PublishBatch: Sendable {
    private struct State {
        var outcomes: [PublishOutcome?]
        var remaining: Int
    }

    private let state: Mutex<State>
    private let continuation: CheckedContinuation<[PublishOutcome], Never>

    init(count: Int, continuation: CheckedContinuation<[PublishOutcome], Never>) {
        state = Mutex(State(outcomes: Array(repeating: nil, count: count), remaining: count))
        self.continuation = continuation
    }

    func settle(_ index: Int, _ outcome: PublishOutcome) {
        let finished = state.withLock { state -> [PublishOutcome]? in
            guard state.outcomes[index] == nil else { return nil }
            state.outcomes[index] = outcome
            state.remaining -= 1
            return state.remaining == 0 ? state.outcomes.map { $0! } : nil
        }
        if let finished { continuation.resume(returning: finished) }
    }
}
