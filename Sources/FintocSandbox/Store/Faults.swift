/// Faults injected into webhook delivery and the API, set with `PUT /sandbox/faults`, so the
/// gateway's tests can see what Fintoc does on a bad day.
public struct Faults: Sendable, Codable, Hashable {
    /// Deliver every event this many times (1 = normal).
    public var duplicate: Int
    /// Deliver the events of one state change in a different order than they happened.
    public var shuffle: Bool
    /// Wait this long before every delivery attempt.
    public var delayMilliseconds: Int
    /// Count the first N attempts of each delivery as failed network errors, without sending,
    /// so retries kick in.
    public var failFirst: Int
    /// Sign with a timestamp this far in the past (`stale_seconds`, default 600 > the 300 s
    /// tolerance).
    public var staleSignature: Bool
    public var staleSeconds: Int
    /// Sign with a secret the receiver does not know.
    public var wrongSecret: Bool
    /// Make the next matching API calls fail.
    public var apiErrors: [APIErrorRule]

    public struct APIErrorRule: Sendable, Codable, Hashable {
        public var status: Int
        public var count: Int
        public var pathPrefix: String?
        public var method: String?

        public init(status: Int, count: Int, pathPrefix: String? = nil, method: String? = nil) {
            self.status = status
            self.count = count
            self.pathPrefix = pathPrefix
            self.method = method
        }

        enum CodingKeys: String, CodingKey {
            case status, count, method
            case pathPrefix = "path_prefix"
        }
    }

    public init(
        duplicate: Int = 1, shuffle: Bool = false, delayMilliseconds: Int = 0, failFirst: Int = 0,
        staleSignature: Bool = false, staleSeconds: Int = 600, wrongSecret: Bool = false, apiErrors: [APIErrorRule] = []
    ) {
        self.duplicate = duplicate
        self.shuffle = shuffle
        self.delayMilliseconds = delayMilliseconds
        self.failFirst = failFirst
        self.staleSignature = staleSignature
        self.staleSeconds = staleSeconds
        self.wrongSecret = wrongSecret
        self.apiErrors = apiErrors
    }

    enum CodingKeys: String, CodingKey {
        case duplicate, shuffle
        case delayMilliseconds = "delay_ms"
        case failFirst = "fail_first"
        case staleSignature = "stale_signature"
        case staleSeconds = "stale_seconds"
        case wrongSecret = "wrong_secret"
        case apiErrors = "api_errors"
    }

    /// Every field is optional in the request; what is missing keeps its default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Faults()
        duplicate = try container.decodeIfPresent(Int.self, forKey: .duplicate) ?? defaults.duplicate
        shuffle = try container.decodeIfPresent(Bool.self, forKey: .shuffle) ?? defaults.shuffle
        delayMilliseconds = try container.decodeIfPresent(Int.self, forKey: .delayMilliseconds) ?? defaults.delayMilliseconds
        failFirst = try container.decodeIfPresent(Int.self, forKey: .failFirst) ?? defaults.failFirst
        staleSignature = try container.decodeIfPresent(Bool.self, forKey: .staleSignature) ?? defaults.staleSignature
        staleSeconds = try container.decodeIfPresent(Int.self, forKey: .staleSeconds) ?? defaults.staleSeconds
        wrongSecret = try container.decodeIfPresent(Bool.self, forKey: .wrongSecret) ?? defaults.wrongSecret
        apiErrors = try container.decodeIfPresent([APIErrorRule].self, forKey: .apiErrors) ?? defaults.apiErrors
    }

    /// The first problem with these values, named by field, or nil.
    func validationError() -> (param: String, message: String)? {
        if !(1...20).contains(duplicate) { return ("duplicate", "duplicate must be between 1 and 20") }
        if !(0...60_000).contains(delayMilliseconds) { return ("delay_ms", "delay_ms must be between 0 and 60000") }
        if !(0...100).contains(failFirst) { return ("fail_first", "fail_first must be between 0 and 100") }
        if staleSeconds < 1 { return ("stale_seconds", "stale_seconds must be positive") }
        for (index, rule) in apiErrors.enumerated() {
            if !(400...599).contains(rule.status) {
                return ("api_errors[\(index)].status", "status must be an HTTP error status (400-599)")
            }
            if rule.count < 1 { return ("api_errors[\(index)].count", "count must be positive") }
        }
        return nil
    }
}
