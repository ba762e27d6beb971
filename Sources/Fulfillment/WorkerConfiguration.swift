import Foundation
import HTTPServerLimits
import PaymentsCore
import PostgresSupport
import ServiceRuntime

/// Everything the worker needs to run, from the environment; every default runs the local stack
/// with no configuration at all.
public struct WorkerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// Health and metrics only; the worker serves no API. An admin listener: keep it on
    /// loopback or a private network, never on the internet.
    public var port = 8081
    /// Slow clients and connection floods on that listener; few clients, so a small cap.
    public var limits = HTTPServerLimits(requestTimeout: .seconds(15), idleTimeout: .seconds(75), maxConnections: 32)
    /// An SQLite file (the default, for one worker process), or a PostgreSQL database that any
    /// number of worker replicas share.
    public var database: DatabaseLocation = .sqlite(path: "./var/fulfillment.sqlite")
    /// The PostgreSQL connections one worker process opens at most (the consumer's batch, the
    /// relay, the email sender and housekeeping each use one at a time).
    public var databaseMaxConnections = 8
    public var amqpURL = "amqp://guest:guest@127.0.0.1:5672/"
    /// Deliveries in hand at once; also the largest batch applied in one SQLite transaction.
    public var prefetch = 1024
    /// nil: emails are written as `.eml` files to `mailDirectory`.
    public var smtp: SMTPSettings?
    public var mailDirectory = "./var/mail/"
    public var mailFrom = MailAddress(address: "pedidos@cobro.local", displayName: "Cobro")
    /// First delay after a failed send; it doubles per failure up to `mailRetryMaxDelay`.
    public var mailRetryInitialDelay: Duration = .seconds(2)
    public var mailRetryMaxDelay: Duration = .seconds(300)
    /// Retry delays of the message path, shortest first; each is a queue of its own.
    public var retrySteps = PaymentsTopology.retrySteps
    /// How often expired holds are swept and the gauges refreshed.
    public var housekeepingInterval: Duration = .seconds(1)
    /// How long a write waits for another writer's lock before the batch counts as a
    /// transient failure (and goes through the retry queues): SQLite's busy timeout,
    /// PostgreSQL's `lock_timeout`.
    public var databaseBusyTimeout: Duration = .seconds(30)

    public init() {}

    public static let variables: [ConfigurationVariable] = [
        .init("WORKER_HOST", default: "127.0.0.1", "address of the health and metrics server (admin only: keep it off the internet)"),
        .init("WORKER_PORT", default: "8081", "port of /healthz, /readyz and /metrics"),
        .init(
            "WORKER_REQUEST_TIMEOUT", default: "15",
            "seconds a client may take to send a request's headers and body, from its first byte; then the connection is closed"),
        .init("WORKER_IDLE_TIMEOUT", default: "75", "seconds a connection may stay open with no request in progress"),
        .init("WORKER_MAX_CONNECTIONS", default: "32", "connections open at once; past it a new one gets 503 and is closed"),
        .init("WORKER_DATABASE", default: "./var/fulfillment.sqlite", "SQLite file of inventory, processed messages and emails"),
        .init(
            "WORKER_DATABASE_URL", default: "",
            "postgres://user:password@host:5432/database[?sslmode=disable|prefer|require] for several worker replicas on one database, "
                + "or an SQLite path; replaces WORKER_DATABASE",
            secret: true),
        .init("WORKER_DATABASE_MAX_CONNECTIONS", default: "8", "PostgreSQL connections per worker process (1 to 100)"),
        .init("AMQP_URL", default: "amqp://guest:guest@127.0.0.1:5672/", "RabbitMQ the worker consumes from", secret: true),
        .init("WORKER_PREFETCH", default: "1024", "deliveries in hand at once (1 to 4096); the largest batch per SQLite commit"),
        .init(
            "SMTP_URL", default: "", "smtp://[user:password@]host[:port][?starttls=required|never] or smtps://…; unset writes .eml files",
            secret: true),
        .init("SMTP_CA_FILE", default: "", "PEM file of CAs to trust for SMTP TLS instead of the system's"),
        .init("MAIL_DIR", default: "./var/mail/", "where .eml files go when SMTP_URL is unset"),
        .init("MAIL_FROM", default: "Cobro <pedidos@cobro.local>", "sender of customer emails; its domain names the Message-IDs"),
        .init("MAIL_RETRY_INITIAL", default: "2", "seconds before the first resend of a failed email (doubles per failure)"),
        .init("MAIL_RETRY_MAX", default: "300", "longest wait between resends, in seconds"),
    ]

    /// Reads and checks every variable; the first unusable one is the error.
    public static func fromEnvironment(_ environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError)
        -> WorkerConfiguration
    {
        var configuration = WorkerConfiguration()
        // A secret X may come from the file X_FILE names (Docker and Kubernetes secrets).
        let environment = try environment.resolvingSecretFiles(for: variables)
        configuration.host = environment.string("WORKER_HOST", default: configuration.host)
        configuration.port = try environment.port("WORKER_PORT", default: configuration.port)
        let requestTimeout = try environment.seconds("WORKER_REQUEST_TIMEOUT", default: 15, in: HTTPServerLimits.timeoutRange)
        let idleTimeout = try environment.seconds("WORKER_IDLE_TIMEOUT", default: 75, in: HTTPServerLimits.timeoutRange)
        configuration.limits = HTTPServerLimits(
            requestTimeout: .milliseconds(Int64(requestTimeout * 1000)), idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
            maxConnections: try environment.integer("WORKER_MAX_CONNECTIONS", default: 32, in: HTTPServerLimits.connectionsRange)
        )
        configuration.database = try environment.database(
            url: "WORKER_DATABASE_URL", path: "WORKER_DATABASE", default: configuration.database)
        configuration.databaseMaxConnections = try environment.integer(
            "WORKER_DATABASE_MAX_CONNECTIONS", default: configuration.databaseMaxConnections, in: 1...100)
        configuration.amqpURL = try environment.url("AMQP_URL", default: configuration.amqpURL, schemes: ["amqp", "amqps"], secret: true)
        configuration.prefetch = try environment.integer("WORKER_PREFETCH", default: configuration.prefetch, in: 1...4096)
        if let text = environment.optionalString("SMTP_URL") {
            configuration.smtp = try SMTPSettings(url: text, caFile: environment.optionalString("SMTP_CA_FILE"))
        }
        configuration.mailDirectory = environment.string("MAIL_DIR", default: configuration.mailDirectory)
        if let from = environment.optionalString("MAIL_FROM") {
            guard let address = MailAddress(parsing: from) else {
                throw ConfigurationError("MAIL_FROM", "\"\(from)\" must be an address, optionally with a name: Name <user@example.com>")
            }
            configuration.mailFrom = address
        }
        let initial = try environment.seconds("MAIL_RETRY_INITIAL", default: 2, in: 0.01...3600)
        let maximum = try environment.seconds("MAIL_RETRY_MAX", default: 300, in: 0.01...86_400)
        configuration.mailRetryInitialDelay = .milliseconds(Int64(initial * 1000))
        configuration.mailRetryMaxDelay = .milliseconds(Int64(max(initial, maximum) * 1000))
        return configuration
    }
}

/// Where and how to reach the SMTP server. The password is kept out of every description.
public struct SMTPSettings: Sendable, Hashable, CustomStringConvertible {
    public enum StartTLS: String, Sendable, Hashable {
        /// Upgrade when the server offers it (the default for `smtp://`).
        case opportunistic
        /// Refuse to send unless the connection is upgraded.
        case required
        /// Plain text only (a local relay or a test server).
        case never
    }

    /// `smtp://host:port` or `smtps://host:port`, without credentials.
    public var url: String
    public var implicitTLS: Bool
    public var starttls: StartTLS
    public var username: String?
    public var password: String?
    public var caFile: String?

    public init(url text: String, caFile: String? = nil) throws(ConfigurationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "smtp" || scheme == "smtps", let host = components.host, !host.isEmpty
        else {
            throw ConfigurationError("SMTP_URL", "the value must be smtp://[user:password@]host[:port] or smtps://…")
        }
        implicitTLS = scheme == "smtps"
        let port = components.port ?? (implicitTLS ? 465 : 25)
        let hostPart = host.contains(":") ? "[\(host)]" : host
        url = "\(scheme)://\(hostPart):\(port)"
        // URLComponents hands these back percent-decoded.
        username = components.user
        password = components.password
        starttls = .opportunistic
        for item in components.queryItems ?? [] {
            switch item.name {
            case "starttls":
                guard let value = item.value.flatMap(StartTLS.init(rawValue:)) else {
                    throw ConfigurationError("SMTP_URL", "starttls must be opportunistic, required or never")
                }
                starttls = value
            default:
                throw ConfigurationError("SMTP_URL", "unknown parameter \"\(item.name)\"")
            }
        }
        if implicitTLS { starttls = .never }
        self.caFile = caFile
    }

    public var description: String {
        "\(url)\(username.map { " as \($0)" } ?? "")\(implicitTLS ? " (TLS)" : " (STARTTLS \(starttls.rawValue))")"
    }
}

/// An email address with an optional display name, as in `Cobro <pedidos@cobro.local>`.
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    public var address: String
    public var displayName: String?

    public init(address: String, displayName: String? = nil) {
        self.address = address
        self.displayName = displayName
    }

    /// `user@host` or `Name <user@host>`; nil for anything else.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
            let name = trimmed[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            displayName = name.isEmpty ? nil : name
        } else {
            address = trimmed
            displayName = nil
        }
        guard EmailAddress.isPlausible(address), !address.contains(where: { "<>\r\n".contains($0) }) else { return nil }
    }

    /// The part after `@`, which names the worker's Message-IDs.
    public var domain: String { address.split(separator: "@").last.map(String.init) ?? "cobro.local" }

    public var description: String { displayName.map { "\($0) <\(address)>" } ?? address }
}
