import Foundation

/// How to reach the broker and how the connection behaves once there.
///
/// Built from an `amqp://` or `amqps://` URL so operators configure one string; the
/// description redacts the password so the value can be logged.
public struct AMQPConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String
    /// Shown by the broker in its management UI and logs, so operators can tell clients apart.
    public var connectionName: String
    /// Seconds between heartbeats (0 disables them). The connection thread polls the socket at
    /// least four times per interval because librabbitmq 0.11 only services heartbeats inside
    /// its own calls.
    public var heartbeat: Int
    public var connectTimeout: Duration
    /// Bounds every synchronous request to the broker (declarations, channel opening).
    public var rpcTimeout: Duration
    public var frameMax: Int
    /// Publishes sent but not yet confirmed; further publishes wait for room.
    public var publishWindow: Int
    public var reconnectBackoff: Backoff
    /// Declared on every (re)connection before consumers resume.
    public var topology: Topology
    public var tls: TLS?

    /// TLS settings for `amqps://`.
    public struct TLS: Sendable, Hashable {
        public var caFile: String
        public var certificateFile: String?
        public var keyFile: String?
        public var verifyPeer: Bool
        public var verifyHostname: Bool

        public init(
            caFile: String, certificateFile: String? = nil, keyFile: String? = nil,
            verifyPeer: Bool = true, verifyHostname: Bool = true
        ) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.verifyPeer = verifyPeer
            self.verifyHostname = verifyHostname
        }
    }

    public init(
        host: String = "127.0.0.1", port: Int = 5672, user: String = "guest", password: String = "guest",
        virtualHost: String = "/", connectionName: String = "cobro", heartbeat: Int = 30,
        connectTimeout: Duration = .seconds(10), rpcTimeout: Duration = .seconds(30),
        frameMax: Int = 131_072, publishWindow: Int = 256, reconnectBackoff: Backoff = Backoff(),
        topology: Topology = Topology(), tls: TLS? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
        self.connectionName = connectionName
        self.heartbeat = heartbeat
        self.connectTimeout = connectTimeout
        self.rpcTimeout = rpcTimeout
        self.frameMax = frameMax
        self.publishWindow = publishWindow
        self.reconnectBackoff = reconnectBackoff
        self.topology = topology
        self.tls = tls
    }

    /// Parses `amqp://user:pass@host:port/vhost` or `amqps://…`.
    ///
    /// The path is the percent-encoded virtual host (`/` or nothing means `/`, `%2F` also
    /// means `/`). Recognised query parameters: `heartbeat`, `connection_timeout` (ms),
    /// `connection_name`, `cacertfile`, `certfile`, `keyfile`, `verify`
    /// (`verify_peer`/`verify_none`). For `amqps` a CA file is required, either in the query or
    /// as `caFile`.
    public init(url string: String, connectionName: String = "cobro", caFile: String? = nil) throws {
        guard let components = URLComponents(string: string), let scheme = components.scheme?.lowercased() else {
            throw AMQPError.invalidURL("not a URL")
        }
        guard scheme == "amqp" || scheme == "amqps" else {
            throw AMQPError.invalidURL("scheme must be amqp or amqps, not \(scheme)")
        }
        let secure = scheme == "amqps"
        self.init(connectionName: connectionName)
        guard let host = components.host, !host.isEmpty else {
            throw AMQPError.invalidURL("missing host")
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let port = components.port {
            guard (1...65_535).contains(port) else { throw AMQPError.invalidURL("port \(port) out of range") }
            self.port = port
        } else {
            self.port = secure ? 5671 : 5672
        }
        if let user = components.user { self.user = user }
        if let password = components.password { self.password = password }
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            virtualHost = "/"
        } else {
            let encoded = path.dropFirst()
            guard !encoded.contains("/") else { throw AMQPError.invalidURL("the virtual host must be one path segment; encode '/' as %2F") }
            guard let decoded = encoded.removingPercentEncoding else {
                throw AMQPError.invalidURL("bad percent-encoding in the virtual host")
            }
            virtualHost = decoded
        }
        var ca = caFile
        var cert: String?
        var key: String?
        var verify = true
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "heartbeat":
                guard let seconds = Int(value), seconds >= 0, seconds <= 65_535 else {
                    throw AMQPError.invalidURL("heartbeat must be a number of seconds, not '\(value)'")
                }
                heartbeat = seconds
            case "connection_timeout":
                guard let millis = Int(value), millis > 0 else {
                    throw AMQPError.invalidURL("connection_timeout must be a positive number of milliseconds")
                }
                connectTimeout = .milliseconds(millis)
            case "connection_name": self.connectionName = value
            case "cacertfile": ca = value
            case "certfile": cert = value
            case "keyfile": key = value
            case "verify":
                guard value == "verify_peer" || value == "verify_none" else {
                    throw AMQPError.invalidURL("verify must be verify_peer or verify_none")
                }
                verify = value == "verify_peer"
            default:
                break
            }
        }
        if secure {
            guard let ca else { throw AMQPError.invalidConfiguration("amqps needs a CA file (cacertfile)") }
            tls = TLS(caFile: ca, certificateFile: cert, keyFile: key, verifyPeer: verify, verifyHostname: verify)
        }
    }

    /// The URL with the password replaced, safe for logs and errors.
    public var redactedURL: String {
        let scheme = tls == nil ? "amqp" : "amqps"
        let vhost = virtualHost == "/" ? "" : (virtualHost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(user):***@\(hostPart):\(port)/\(vhost)"
    }

    public var description: String { redactedURL }

    /// Also redacted, so `dump`, `debugPrint` and string interpolation in logs never show the
    /// password.
    public var debugDescription: String {
        "AMQPConfiguration(\(redactedURL), name: \(connectionName), heartbeat: \(heartbeat)s, window: \(publishWindow))"
    }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "url": redactedURL, "connectionName": connectionName, "heartbeat": heartbeat,
                "publishWindow": publishWindow, "tls": tls as Any,
            ], displayStyle: .struct)
    }
}
