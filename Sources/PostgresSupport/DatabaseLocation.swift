import Foundation
import NIOSSL
import PostgresNIO
import ServiceRuntime

/// Where a service keeps its data: an SQLite file (the embedded default, one process per file)
/// or a PostgreSQL database (several replicas on one database). `GATEWAY_DATABASE_URL` and
/// `WORKER_DATABASE_URL` take either: a `postgres://` URL selects PostgreSQL, anything else is
/// the path of an SQLite file.
public enum DatabaseLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresURL)

    /// Reads a `postgres://` (or `postgresql://`) URL, or a path; a URL it cannot use is an error
    /// saying why (without the password).
    public init(parsing text: String) throws(DatabaseLocationError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw DatabaseLocationError("is empty") }
        if let scheme = trimmed.range(of: "://").map({ trimmed[..<$0.lowerBound].lowercased() }) {
            guard scheme == "postgres" || scheme == "postgresql" else {
                throw DatabaseLocationError("\"\(scheme)://\" is not a database this service knows: use postgres://… or a file path")
            }
            self = .postgres(try PostgresURL(parsing: trimmed))
        } else if trimmed.hasPrefix("sqlite:") {
            self = .sqlite(path: String(trimmed.dropFirst("sqlite:".count)))
        } else {
            self = .sqlite(path: trimmed)
        }
    }

    /// The engine's name, for logs and metrics: `sqlite` or `postgres`.
    public var engine: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// Safe to log: a path, or the URL with its password replaced.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let url): url.description
        }
    }
}

/// Why a database URL cannot be used.
public struct DatabaseLocationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A PostgreSQL server and database, as `postgres://user:password@host:port/database?sslmode=…`
/// names them. `sslmode` is `disable`, `prefer` (the default, as libpq's) or `require`; with
/// TLS the server's certificate is verified against the system's trust store, or against
/// `sslrootcert` (a PEM file) when given.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    public var rootCertificatePath: String?

    public init(parsing text: String) throws(DatabaseLocationError) {
        guard let components = URLComponents(string: text) else { throw DatabaseLocationError("is not a URL") }
        guard let host = components.host, !host.isEmpty else {
            throw DatabaseLocationError("names no host (postgres://user:password@host:5432/database)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw DatabaseLocationError("names no user (postgres://user:password@host:5432/database)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw DatabaseLocationError("names no database (…@host:5432/database)") }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
        self.tls = .prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw DatabaseLocationError("sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tls = mode
            case "sslrootcert":
                guard let path = item.value, !path.isEmpty else { throw DatabaseLocationError("sslrootcert names no file") }
                rootCertificatePath = path
            default:
                throw DatabaseLocationError("does not know the parameter \"\(item.name)\" (known: sslmode, sslrootcert)")
            }
        }
    }

    /// The URL with the password replaced by `***`, for logs and errors.
    public var description: String {
        let credentials = password == nil ? username : "\(username):***"
        var text = "postgres://\(credentials)@\(host):\(port)/\(database)"
        if tls != .prefer { text += "?sslmode=\(tls.rawValue)" }
        return text
    }

    private var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let rootCertificatePath {
            configuration.trustRoots = .file(rootCertificatePath)
        }
        return configuration
    }

    /// One connection's configuration, for the check made before a pool opens.
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration))
            case .require: .require(try NIOSSLContext(configuration: tlsConfiguration))
            }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// PostgresNIO's client configuration for this URL, with at most `maximumConnections` in its pool.
    public func clientConfiguration(maximumConnections: Int) throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(tlsConfiguration)
            case .require: .require(tlsConfiguration)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}

extension EnvironmentReader {
    /// The database a service uses: `urlVariable` (a `postgres://` URL or an SQLite path, a
    /// secret as it may hold a password) or else `pathVariable` (an SQLite path, the older
    /// variable), else `defaultValue`. Setting both is an error: one of them would be ignored.
    public func database(url urlVariable: String, path pathVariable: String, default defaultValue: DatabaseLocation)
        throws(ConfigurationError) -> DatabaseLocation
    {
        if let text = optionalString(urlVariable) {
            guard optionalString(pathVariable) == nil else {
                throw ConfigurationError(urlVariable, "set either \(urlVariable) or \(pathVariable), not both")
            }
            do {
                return try DatabaseLocation(parsing: text)
            } catch {
                throw ConfigurationError(urlVariable, error.reason)
            }
        }
        if let path = optionalString(pathVariable) { return .sqlite(path: path) }
        return defaultValue
    }
}
