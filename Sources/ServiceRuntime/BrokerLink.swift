import AMQP
import Logging
import Synchronization

/// The one broker connection a service holds. It is made on first use, with the topology
/// declared; after that the connection recovers by itself (reconnecting with back-off and
/// declaring the topology again), so a service asks for it each round and gets the same one.
/// Only the first connection can fail here: until it succeeds, each round tries once more.
public final class BrokerLink: Sendable {
    public let amqp: AMQPConfiguration
    private let logger: Logger
    private let unreachable: Logger.Message
    private let unreachableLevel: Logger.Level
    private let connection = Mutex<AMQPConnection?>(nil)
    private let attempts = Mutex(0)

    /// `unreachable` is what the service logs (at `unreachableLevel`) while the broker cannot be
    /// reached: what waits because of it.
    public init(amqp: AMQPConfiguration, logger: Logger, unreachable: Logger.Message, level unreachableLevel: Logger.Level = .warning) {
        self.amqp = amqp
        self.logger = logger
        self.unreachable = unreachable
        self.unreachableLevel = unreachableLevel
    }

    /// Whether a live connection is held (for `/readyz`).
    public var isConnected: Bool { connection.withLock { $0?.isConnected ?? false } }

    /// First connections attempted so far (for tests and diagnostics).
    public var connectionAttempts: Int { attempts.withLock { $0 } }

    /// The connection, connecting when there is none yet; nil while the broker is unreachable.
    public func connected() async -> AMQPConnection? {
        if let existing = connection.withLock({ $0 }) { return existing }
        attempts.withLock { $0 += 1 }
        do {
            let made = try await AMQPConnection.connect(amqp, logger: logger)
            connection.withLock { $0 = made }
            logger.debug("connected to the broker; topology declared", metadata: ["connection": "\(amqp.connectionName)"])
            return made
        } catch {
            logger.log(level: unreachableLevel, unreachable, metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Closes the connection, if one was made; the next `connected()` makes a new one.
    public func close() async {
        if let open = connection.withLock({ connection in
            defer { connection = nil }
            return connection
        }) {
            await open.close()
        }
    }
}
