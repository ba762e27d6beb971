/// When and how long the client waits before trying a request again.
///
/// Retrying a POST is safe only because every POST carries the caller's `Idempotency-Key`: Fintoc
/// replays the first answer instead of creating a second object. Delays grow exponentially from
/// `initialDelay` up to `maxDelay` (Fintoc asks for 1, 2, 4, 8, 16 s after a 429), each scaled by
/// a random factor in [0.5, 1] so many clients that failed together do not retry together.
public struct RetryPolicy: Sendable, Hashable {
    /// Tries in all, the first included; 1 means never retry.
    public var maxAttempts: Int
    public var initialDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 5, initialDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(16)) {
        precondition(maxAttempts >= 1, "maxAttempts counts the first try, so it is at least 1")
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    public static let never = RetryPolicy(maxAttempts: 1)

    /// HTTP statuses worth another try: rate limiting and server-side failures.
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || (500...599).contains(status)
    }

    /// The wait before retry number `retry` (1 for the first retry), honouring a server's
    /// `Retry-After` when it asks for longer, never past `maxDelay`.
    public func delay(beforeRetry retry: Int, retryAfter: Duration? = nil, jitter: Double = Double.random(in: 0.5...1)) -> Duration {
        precondition(retry >= 1)
        var ceiling = initialDelay
        for _ in 1..<min(retry, 32) where ceiling < maxDelay {
            ceiling *= 2
        }
        ceiling = min(ceiling, maxDelay)
        let jittered = ceiling * jitter
        guard let retryAfter else { return jittered }
        return min(max(jittered, retryAfter), maxDelay)
    }
}
