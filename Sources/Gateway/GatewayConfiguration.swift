import Fintoc
import Foundation
import HTTPServerLimits
import PaymentsCore
import PostgresSupport
import ServiceRuntime

/// Everything the gateway needs to run, from the environment; every default makes the local
/// stack (sandbox, local broker) run with no configuration at all.
public struct GatewayConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The admin listener: `/metrics`, `/readyz` and `/healthz`, for Prometheus and the
    /// orchestrator only; loopback unless told otherwise. Port 0 takes any free port.
    public var adminHost = "127.0.0.1"
    public var adminPort = 9080
    /// Slow clients and connection floods on the public listener (storefronts, Fintoc).
    public var limits = HTTPServerLimits(requestTimeout: .seconds(15), idleTimeout: .seconds(75), maxConnections: 512)
    /// The same on the admin listener; few clients, so a small cap.
    public var adminLimits = HTTPServerLimits(requestTimeout: .seconds(15), idleTimeout: .seconds(75), maxConnections: 32)
    /// An SQLite file (the default, for one gateway process), or a PostgreSQL database that any
    /// number of gateway replicas share.
    public var database: DatabaseLocation = .sqlite(path: "./var/gateway.sqlite")
    /// PostgreSQL connections per gateway process.
    public var databaseMaxConnections = 20
    public var amqpURL = "amqp://guest:guest@127.0.0.1:5672/"
    public var fintoc = FintocClientConfiguration(secretKey: "sk_test_sandbox")
    public var fintocPublicKey = "pk_test_sandbox"
    /// For direct payment intents to one account.
    public var fintocRecipientAccount: BankAccount?
    /// `(name, key)` pairs accepted as storefront keys besides those made with `api-keys create`.
    public var storefrontKeys: [(name: String, key: String)] = []
    /// Largest storefront request body accepted.
    public var maxBodyBytes = 64 * 1024
    /// Lifetime assumed for a widget checkout whose Fintoc object names no expiry.
    public var defaultCheckoutLifetime: TimeInterval = 600
    /// Secrets that may sign Fintoc's webhooks; more than one while rotating.
    public var webhookSecrets = [GatewayConfiguration.sandboxWebhookSecret]
    /// How far a webhook signature's timestamp may be from now, either way.
    public var webhookTolerance: TimeInterval = 300
    /// Largest webhook body accepted.
    public var maxWebhookBytes = 256 * 1024
    /// How often reconciliation looks for checkouts to re-read from Fintoc.
    public var reconcileInterval: TimeInterval = 300
    /// How long after its expected end an open checkout waits for a webhook before it is re-read.
    public var reconcileGrace: TimeInterval = 300
    /// How often a pending payment is re-read (pending can last days).
    public var reconcilePendingEvery: TimeInterval = 3600

    /// The secret the local sandbox signs with by default (`SANDBOX_WEBHOOK_SECRET` in `scripts/up`).
    public static let sandboxWebhookSecret = "whsec_test_sandbox"

    public init() {}

    public static let variables: [ConfigurationVariable] = [
        .init("GATEWAY_HOST", default: "127.0.0.1", "address the HTTP server listens on"),
        .init("GATEWAY_PORT", default: "8080", "port of the public HTTP server: storefront API, Fintoc webhooks, bare /healthz"),
        .init(
            "GATEWAY_ADMIN_HOST", default: "127.0.0.1",
            "address of the admin server (/metrics, /readyz, /healthz); keep it off the internet"),
        .init("GATEWAY_ADMIN_PORT", default: "9080", "port of the admin server (0: any free port)"),
        .init(
            "GATEWAY_REQUEST_TIMEOUT", default: "15",
            "seconds a client may take to send a request's headers and body, from its first byte; then the connection is closed"),
        .init(
            "GATEWAY_IDLE_TIMEOUT", default: "75",
            "seconds a connection may stay open with no request in progress (kept-alive or never used)"),
        .init(
            "GATEWAY_MAX_CONNECTIONS", default: "512",
            "connections open at once on the public server; past it a new one gets 503 and is closed"),
        .init("GATEWAY_ADMIN_MAX_CONNECTIONS", default: "32", "connections open at once on the admin server"),
        .init("GATEWAY_DATABASE", default: "./var/gateway.sqlite", "SQLite file of orders, checkouts, webhooks and the outbox"),
        .init(
            "GATEWAY_DATABASE_URL", default: "",
            "postgres://user:password@host:5432/database[?sslmode=disable|prefer|require] for several gateway replicas on one database, "
                + "or an SQLite path; replaces GATEWAY_DATABASE",
            secret: true),
        .init("GATEWAY_DATABASE_MAX_CONNECTIONS", default: "20", "PostgreSQL connections per gateway process (1 to 100)"),
        .init("AMQP_URL", default: "amqp://guest:guest@127.0.0.1:5672/", "RabbitMQ the outbox relay publishes to", secret: true),
        .init(
            "FINTOC_API_URL", default: "http://127.0.0.1:8090",
            "Fintoc's API base URL (https://api.fintoc.com in production; the local sandbox by default)"),
        .init("FINTOC_SECRET_KEY", default: "sk_test_sandbox", "Fintoc secret key (sk_test_… or sk_live_…)", secret: true),
        .init("FINTOC_PUBLIC_KEY", default: "pk_test_sandbox", "Fintoc public key, handed to widget checkouts"),
        .init("FINTOC_API_VERSION", default: "", "Fintoc-Version header to pin (e.g. 2026-02-01)"),
        .init("FINTOC_TIMEOUT", default: "15", "seconds one Fintoc request may take"),
        .init(
            "FINTOC_RECIPIENT_ACCOUNT", default: "", "holder_id:number:type:institution_id of the account direct payment intents pay into"),
        .init("STOREFRONT_API_KEYS", default: "", "storefront keys as name:key,name:key (more with `api-keys create`)", secret: true),
        .init("GATEWAY_MAX_BODY_BYTES", default: "65536", "largest storefront request body"),
        .init(
            "FINTOC_WEBHOOK_SECRETS", default: sandboxWebhookSecret,
            "secrets that may sign webhooks, comma-separated (two while rotating); the default is refused with a live key", secret: true),
        .init("FINTOC_WEBHOOK_TOLERANCE", default: "300", "seconds a webhook signature's timestamp may differ from now, either way"),
        .init("GATEWAY_MAX_WEBHOOK_BYTES", default: "262144", "largest webhook body (413 past it)"),
        .init("GATEWAY_RECONCILE_INTERVAL", default: "300", "seconds between reconciliation passes (0 turns it off)"),
        .init(
            "GATEWAY_RECONCILE_GRACE", default: "300",
            "seconds past its expected end an open checkout waits for a webhook before it is re-read"),
        .init("GATEWAY_RECONCILE_PENDING_EVERY", default: "3600", "seconds between re-reads of a pending payment"),
    ]

    /// Reads and checks every variable; the first unusable one is the error.
    public static func fromEnvironment(_ environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError)
        -> GatewayConfiguration
    {
        var configuration = GatewayConfiguration()
        // A secret X may come from the file X_FILE names (Docker and Kubernetes secrets).
        let environment = try environment.resolvingSecretFiles(for: variables)
        configuration.host = environment.string("GATEWAY_HOST", default: configuration.host)
        configuration.port = try environment.port("GATEWAY_PORT", default: configuration.port)
        configuration.adminHost = environment.string("GATEWAY_ADMIN_HOST", default: configuration.adminHost)
        configuration.adminPort = try environment.port("GATEWAY_ADMIN_PORT", default: configuration.adminPort)
        if configuration.adminPort != 0, configuration.adminPort == configuration.port {
            throw ConfigurationError(
                "GATEWAY_ADMIN_PORT", "must differ from GATEWAY_PORT (\(configuration.port)): /metrics and /readyz stay off the public port"
            )
        }
        let requestTimeout = try environment.seconds("GATEWAY_REQUEST_TIMEOUT", default: 15, in: HTTPServerLimits.timeoutRange)
        let idleTimeout = try environment.seconds("GATEWAY_IDLE_TIMEOUT", default: 75, in: HTTPServerLimits.timeoutRange)
        configuration.limits = HTTPServerLimits(
            requestTimeout: .milliseconds(Int64(requestTimeout * 1000)), idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
            maxConnections: try environment.integer("GATEWAY_MAX_CONNECTIONS", default: 512, in: HTTPServerLimits.connectionsRange)
        )
        configuration.adminLimits = configuration.limits
        configuration.adminLimits.maxConnections = try environment.integer(
            "GATEWAY_ADMIN_MAX_CONNECTIONS", default: 32, in: HTTPServerLimits.connectionsRange)
        configuration.database = try environment.database(
            url: "GATEWAY_DATABASE_URL", path: "GATEWAY_DATABASE", default: configuration.database)
        configuration.databaseMaxConnections = try environment.integer(
            "GATEWAY_DATABASE_MAX_CONNECTIONS", default: configuration.databaseMaxConnections, in: 1...100)
        configuration.amqpURL = try environment.url("AMQP_URL", default: configuration.amqpURL, schemes: ["amqp", "amqps"], secret: true)
        let secretKey = environment.string("FINTOC_SECRET_KEY", default: "sk_test_sandbox")
        guard secretKey.hasPrefix("sk_") else {
            throw ConfigurationError("FINTOC_SECRET_KEY", "must be a secret key (sk_test_… or sk_live_…)")
        }
        configuration.fintoc = FintocClientConfiguration(
            baseURL: try environment.url("FINTOC_API_URL", default: configuration.fintoc.baseURL, schemes: ["http", "https"]),
            secretKey: secretKey,
            apiVersion: environment.optionalString("FINTOC_API_VERSION"),
            requestTimeout: .milliseconds(Int64(try environment.seconds("FINTOC_TIMEOUT", default: 15, in: 0.1...300) * 1000))
        )
        configuration.fintocPublicKey = environment.string("FINTOC_PUBLIC_KEY", default: configuration.fintocPublicKey)
        guard configuration.fintocPublicKey.hasPrefix("pk_") else {
            throw ConfigurationError("FINTOC_PUBLIC_KEY", "must be a public key (pk_test_… or pk_live_…)")
        }
        if let account = environment.optionalString("FINTOC_RECIPIENT_ACCOUNT") {
            let parts = account.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty }) else {
                throw ConfigurationError("FINTOC_RECIPIENT_ACCOUNT", "must be holder_id:number:type:institution_id")
            }
            configuration.fintocRecipientAccount = BankAccount(
                holderID: parts[0], number: parts[1], type: parts[2], institutionID: parts[3])
        }
        for entry in environment.list("STOREFRONT_API_KEYS") {
            guard let colon = entry.firstIndex(of: ":"), !entry[..<colon].isEmpty, entry[entry.index(after: colon)...].count >= 16 else {
                throw ConfigurationError("STOREFRONT_API_KEYS", "each entry must be name:key with a key of 16 characters or more")
            }
            guard (try? StorefrontID(String(entry[..<colon]))) != nil else {
                throw ConfigurationError(
                    "STOREFRONT_API_KEYS",
                    "a storefront name must be 1 to 64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit")
            }
            configuration.storefrontKeys.append((String(entry[..<colon]), String(entry[entry.index(after: colon)...])))
        }
        configuration.maxBodyBytes = try environment.integer(
            "GATEWAY_MAX_BODY_BYTES", default: configuration.maxBodyBytes, in: 1024...(16 << 20))
        let secrets = environment.list("FINTOC_WEBHOOK_SECRETS")
        if !secrets.isEmpty {
            guard secrets.allSatisfy({ $0.count >= 8 && $0.count <= 256 }) else {
                throw ConfigurationError("FINTOC_WEBHOOK_SECRETS", "each secret must be 8 to 256 characters")
            }
            configuration.webhookSecrets = secrets
        }
        if secretKey.hasPrefix("sk_live_"), configuration.webhookSecrets.contains(sandboxWebhookSecret) {
            throw ConfigurationError(
                "FINTOC_WEBHOOK_SECRETS", "must be set to the live endpoint's secret: the sandbox's default secret is public")
        }
        configuration.webhookTolerance = try environment.seconds(
            "FINTOC_WEBHOOK_TOLERANCE", default: configuration.webhookTolerance, in: 1...86_400)
        configuration.maxWebhookBytes = try environment.integer(
            "GATEWAY_MAX_WEBHOOK_BYTES", default: configuration.maxWebhookBytes, in: 1024...(16 << 20))
        configuration.reconcileInterval = try environment.seconds(
            "GATEWAY_RECONCILE_INTERVAL", default: configuration.reconcileInterval, in: 0...86_400)
        configuration.reconcileGrace = try environment.seconds(
            "GATEWAY_RECONCILE_GRACE", default: configuration.reconcileGrace, in: 0...86_400)
        configuration.reconcilePendingEvery = try environment.seconds(
            "GATEWAY_RECONCILE_PENDING_EVERY", default: configuration.reconcilePendingEvery, in: 1...(30 * 86_400))
        return configuration
    }
}
