/// Capped exponential backoff with full jitter: after a broker restart every client picks a
/// random delay up to the cap, so they do not all reconnect in the same instant.
public struct Backoff: Sendable, Hashable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .milliseconds(100), cap: Duration = .seconds(10)) {
        self.base = base
        self.cap = cap
    }

    /// The upper bound of the delay before attempt `attempt` (0 for the first retry).
    public func ceiling(attempt: Int) -> Duration {
        let exponent = min(max(attempt, 0), 30)
        let grown = base * (1 << exponent)
        return grown > cap ? cap : grown
    }

    /// A uniformly random delay between zero and the ceiling.
    public func delay<G: RandomNumberGenerator>(attempt: Int, using generator: inout G) -> Duration {
        let ceiling = ceiling(attempt: attempt)
        let nanos = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanos > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanos, using: &generator))
    }

    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
