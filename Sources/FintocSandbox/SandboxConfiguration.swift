import Foundation
import HTTPServerLimits
import PaymentsCore
import ServiceRuntime

/// Everything the sandbox can be told at start, with defaults that make the local stack run with
/// no configuration at all.
///
/// The executable reads it from the environment (``init(environment:)``); tests build it directly
/// with short lifetimes and a fast retry schedule.
public struct SandboxConfiguration: Sendable {
    public var host: String
    /// 0 asks the system for a free port (tests).
    public var port: Int
    public var secretKey: String
    public var publicKey: String
    /// Base of `redirect_url` and of the widget script, as a browser reaches the sandbox.
    public var publicURL: String
    /// An endpoint subscribed to every event from the start, so a gateway works without
    /// registering itself through the API.
    public var bootstrapWebhook: BootstrapWebhook?
    /// How long a v2 session (and its hosted page) stays open.
    public var sessionLifetime: TimeInterval
    /// How long a `session_token` / `widget_token` opens the widget (and a v1 session stays open).
    public var tokenLifetime: TimeInterval
    /// Delays before each retry of a failed delivery; its length is the number of retries.
    public var retrySchedule: [TimeInterval]
    /// Time allowed to one delivery attempt before it counts as failed.
    public var webhookTimeout: TimeInterval
    /// How often the sweeper looks for sessions and intents past `expires_at`.
    public var sweepInterval: TimeInterval
    /// How long after a customer picks the "completes after a few seconds" account its pending
    /// payment settles.
    public var settleDelay: TimeInterval
    /// Slow clients and connection floods on the sandbox's listener.
    public var limits: HTTPServerLimits

    public struct BootstrapWebhook: Sendable, Hashable {
        public var url: String
        public var secret: String

        public init(url: String, secret: String) {
            self.url = url
            self.secret = secret
        }
    }

    /// Fintoc's schedule: 3 s, doubling, 17 retries.
    public static let fintocRetrySchedule: [TimeInterval] = (0..<17).map { 3 * pow(2, Double($0)) }

    public init(
        host: String = "127.0.0.1",
        port: Int = 8090,
        secretKey: String = "sk_test_sandbox",
        publicKey: String = "pk_test_sandbox",
        publicURL: String? = nil,
        bootstrapWebhook: BootstrapWebhook? = nil,
        sessionLifetime: TimeInterval = 86_400,
        tokenLifetime: TimeInterval = 600,
        retrySchedule: [TimeInterval] = SandboxConfiguration.fintocRetrySchedule,
        webhookTimeout: TimeInterval = 10,
        sweepInterval: TimeInterval = 1,
        settleDelay: TimeInterval = 5,
        limits: HTTPServerLimits = HTTPServerLimits(requestTimeout: .seconds(15), idleTimeout: .seconds(75), maxConnections: 512)
    ) {
        self.host = host
        self.port = port
        self.secretKey = secretKey
        self.publicKey = publicKey
        self.publicURL = publicURL ?? "http://\(host):\(port)"
        self.bootstrapWebhook = bootstrapWebhook
        self.sessionLifetime = sessionLifetime
        self.tokenLifetime = tokenLifetime
        self.retrySchedule = retrySchedule
        self.webhookTimeout = webhookTimeout
        self.sweepInterval = sweepInterval
        self.settleDelay = settleDelay
        self.limits = limits
    }
}

extension SandboxConfiguration {
    /// The longest duration any setting may name (a year): beyond it, converting to milliseconds
    /// could overflow, and no test or stack needs more.
    static let maxSeconds: TimeInterval = 366 * 86_400

    /// Every variable with its default and meaning, for `--help` and the README.
    public static let variables: [ConfigurationVariable] = [
        .init("SANDBOX_HOST", default: "127.0.0.1", "address to listen on"),
        .init("SANDBOX_PORT", default: "8090", "port to listen on"),
        .init("SANDBOX_SECRET_KEY", default: "sk_test_sandbox", "secret key the API accepts", secret: true),
        .init("SANDBOX_PUBLIC_KEY", default: "pk_test_sandbox", "public key the widget accepts"),
        .init("SANDBOX_PUBLIC_URL", default: "http://<host>:<port>", "base of redirect_url and widget.js as a browser reaches them"),
        .init("SANDBOX_WEBHOOK_URL", default: "", "endpoint subscribed to all events at start (needs SANDBOX_WEBHOOK_SECRET)"),
        .init(
            "SANDBOX_WEBHOOK_SECRET", default: "", "signing secret of that endpoint (whsec_...); also what `trigger` signs with",
            secret: true),
        .init("SANDBOX_SESSION_LIFETIME", default: "86400", "seconds a v2 checkout session stays open"),
        .init("SANDBOX_TOKEN_LIFETIME", default: "600", "seconds a session_token / widget_token (and a v1 session) lives"),
        .init(
            "SANDBOX_WEBHOOK_RETRY_SCHEDULE", default: "3,6,12,...,196608 (17 retries)",
            "comma-separated seconds before each retry of a failed delivery"),
        .init("SANDBOX_WEBHOOK_TIMEOUT", default: "10", "seconds allowed to one delivery attempt"),
        .init("SANDBOX_SWEEP_INTERVAL", default: "1", "seconds between looks for expired sessions and intents"),
        .init("SANDBOX_SETTLE_DELAY", default: "5", "seconds before a pending test payment on account 422159212 settles"),
        .init(
            "SANDBOX_REQUEST_TIMEOUT", default: "15",
            "seconds a client may take to send a request's headers and body, from its first byte; then the connection is closed"),
        .init("SANDBOX_IDLE_TIMEOUT", default: "75", "seconds a connection may stay open with no request in progress"),
        .init("SANDBOX_MAX_CONNECTIONS", default: "512", "connections open at once; past it a new one gets 503 and is closed"),
    ]

    /// Reads the variables above; anything unset keeps its default, anything unusable throws a
    /// message naming the variable.
    public init(environment: [String: String]) throws(ConfigurationError) {
        // A secret X may come from the file X_FILE names (Docker and Kubernetes secrets).
        let environment = try EnvironmentReader(environment).resolvingSecretFiles(for: Self.variables).values
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func seconds(_ name: String, default fallback: TimeInterval, allowZero: Bool = false) throws(ConfigurationError) -> TimeInterval {
            guard let text = value(name) else { return fallback }
            guard let number = Double(text), number.isFinite, allowZero ? number >= 0 : number > 0 else {
                throw ConfigurationError(name, "\"\(text)\" is not a positive number of seconds")
            }
            guard number <= Self.maxSeconds else {
                throw ConfigurationError(name, "\(text) seconds is more than the \(Int(Self.maxSeconds)) allowed")
            }
            return number
        }

        let host = value("SANDBOX_HOST") ?? "127.0.0.1"
        var port = 8090
        if let text = value("SANDBOX_PORT") {
            guard let number = Int(text), (0...65_535).contains(number) else {
                throw ConfigurationError("SANDBOX_PORT", "\"\(text)\" is not a port number (0-65535)")
            }
            port = number
        }
        let secretKey = value("SANDBOX_SECRET_KEY") ?? "sk_test_sandbox"
        guard secretKey.hasPrefix("sk_") else {
            throw ConfigurationError("SANDBOX_SECRET_KEY", "a secret key starts with sk_")
        }
        let publicKey = value("SANDBOX_PUBLIC_KEY") ?? "pk_test_sandbox"
        guard publicKey.hasPrefix("pk_") else {
            throw ConfigurationError("SANDBOX_PUBLIC_KEY", "a public key starts with pk_")
        }
        var publicURL = value("SANDBOX_PUBLIC_URL")
        if let text = publicURL {
            guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw ConfigurationError("SANDBOX_PUBLIC_URL", "\"\(text)\" is not an http(s) URL")
            }
            while publicURL?.hasSuffix("/") == true { publicURL?.removeLast() }
        }

        var bootstrap: BootstrapWebhook?
        switch (value("SANDBOX_WEBHOOK_URL"), value("SANDBOX_WEBHOOK_SECRET")) {
        case (nil, nil):
            bootstrap = nil
        case (let url?, let secret?):
            guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
                throw ConfigurationError("SANDBOX_WEBHOOK_URL", "\"\(url)\" is not an http(s) URL")
            }
            bootstrap = BootstrapWebhook(url: url, secret: secret)
        case (_?, nil):
            throw ConfigurationError("SANDBOX_WEBHOOK_SECRET", "required when SANDBOX_WEBHOOK_URL is set")
        case (nil, _?):
            throw ConfigurationError("SANDBOX_WEBHOOK_URL", "required when SANDBOX_WEBHOOK_SECRET is set")
        }

        var schedule = SandboxConfiguration.fintocRetrySchedule
        if let text = value("SANDBOX_WEBHOOK_RETRY_SCHEDULE") {
            schedule = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                let item = part.trimmingCharacters(in: .whitespaces)
                guard let number = Double(item), number.isFinite, number >= 0, number <= Self.maxSeconds else {
                    throw ConfigurationError(
                        "SANDBOX_WEBHOOK_RETRY_SCHEDULE",
                        "\"\(item)\" is not a number of seconds up to \(Int(Self.maxSeconds)) (expected e.g. 3,6,12)")
                }
                schedule.append(number)
            }
        }

        func limitSeconds(_ name: String, default fallback: Double) throws(ConfigurationError) -> Duration {
            let number = try seconds(name, default: fallback)
            guard HTTPServerLimits.timeoutRange.contains(number) else {
                throw ConfigurationError(
                    name,
                    "must be between \(HTTPServerLimits.timeoutRange.lowerBound) and \(Int(HTTPServerLimits.timeoutRange.upperBound)) seconds, not \(number)"
                )
            }
            return .milliseconds(Int64(number * 1000))
        }
        var maxConnections = 512
        if let text = value("SANDBOX_MAX_CONNECTIONS") {
            guard let number = Int(text), HTTPServerLimits.connectionsRange.contains(number) else {
                throw ConfigurationError(
                    "SANDBOX_MAX_CONNECTIONS",
                    "\"\(text)\" is not a whole number from \(HTTPServerLimits.connectionsRange.lowerBound) to \(HTTPServerLimits.connectionsRange.upperBound)"
                )
            }
            maxConnections = number
        }
        let limits = HTTPServerLimits(
            requestTimeout: try limitSeconds("SANDBOX_REQUEST_TIMEOUT", default: 15),
            idleTimeout: try limitSeconds("SANDBOX_IDLE_TIMEOUT", default: 75),
            maxConnections: maxConnections
        )

        self.init(
            host: host,
            port: port,
            secretKey: secretKey,
            publicKey: publicKey,
            publicURL: publicURL,
            bootstrapWebhook: bootstrap,
            sessionLifetime: try seconds("SANDBOX_SESSION_LIFETIME", default: 86_400),
            tokenLifetime: try seconds("SANDBOX_TOKEN_LIFETIME", default: 600),
            retrySchedule: schedule,
            webhookTimeout: try seconds("SANDBOX_WEBHOOK_TIMEOUT", default: 10),
            sweepInterval: try seconds("SANDBOX_SWEEP_INTERVAL", default: 1),
            settleDelay: try seconds("SANDBOX_SETTLE_DELAY", default: 5, allowZero: true),
            limits: limits
        )
    }
}
