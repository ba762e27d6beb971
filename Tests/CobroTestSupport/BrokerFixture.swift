import AMQP
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The test broker (started by scripts/test), with a virtual host per test so no test sees
/// another's messages.
public enum BrokerFixture {
    public static var url: String { ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/" }
    public static var managementURL: String {
        ProcessInfo.processInfo.environment["RABBITMQ_MGMT_URL"] ?? "http://guest:guest@127.0.0.1:15672/"
    }

    /// The repository's root, for its scripts and schemas.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `scripts/broker <command>` (stop, start) with the test environment and waits for it
    /// on a thread of its own, never the cooperative pool.
    ///
    /// Spawned and reaped by hand: Foundation's `Process` learns of termination through a
    /// descriptor that the broker, started in the background by the script, inherits and keeps
    /// open, so `waitUntilExit` would wait for the broker itself to exit.
    public static func brokerScript(_ command: String) async throws {
        let path = repositoryRoot.appendingPathComponent("scripts/broker").path
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup(command), nil]
            defer { for argument in arguments { free(argument) } }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, path, &actions, nil, arguments, environ)
            guard spawned == 0 else {
                continuation.resume(throwing: BrokerScriptError(command: command, status: spawned))
                return
            }
            let child = pid
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(child, &status, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: (status >> 8) & 0xff)
            }
        }
        if status != 0 { throw BrokerScriptError(command: command, status: status) }
    }

    public struct BrokerScriptError: Error, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public var description: String { "scripts/broker \(command) failed with status \(status)" }
    }

    /// Creates a fresh virtual host for guest and returns its AMQP URL.
    public static func virtualHost() async throws -> String {
        let name = "cobro-test-\(UUID().uuidString.prefix(12).lowercased())"
        try await management("PUT", "api/vhosts/\(name)", body: "{}")
        try await management("PUT", "api/permissions/\(name)/guest", body: #"{"configure":".*","write":".*","read":".*"}"#)
        var components = URLComponents(string: url)!
        components.path = "/" + name
        return components.string!
    }

    public static func deleteVirtualHost(of amqpURL: String) async {
        guard let name = URLComponents(string: amqpURL)?.path.dropFirst(), !name.isEmpty else { return }
        _ = try? await management("DELETE", "api/vhosts/\(name)", body: nil)
    }

    /// At most this many management calls at once: the suites start together, and dozens of
    /// virtual hosts made at the same moment keep one broker on two cores busy past any timeout.
    static let managementGate = AsyncGate(limit: 4)

    /// Calls the management API; returns the answer's body.
    @discardableResult
    public static func management(_ method: String, _ path: String, body: String?) async throws -> String {
        try await managementGate.run { try await callManagement(method, path, body: body) }
    }

    private static func callManagement(_ method: String, _ path: String, body: String?) async throws -> String {
        let base = URLComponents(string: managementURL)!
        var request = HTTPClientRequest(url: "\(base.scheme!)://\(base.host!):\(base.port ?? 15672)/\(path)")
        request.method = .init(rawValue: method)
        let credentials = Data("\(base.user ?? "guest"):\(base.password ?? "guest")".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.headers.add(name: "Content-Type", value: "application/json")
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard (200..<300).contains(response.status.code) else {
            throw ManagementError(description: "management \(method) \(path): \(response.status) \(text)")
        }
        return text
    }

    /// A queue bound to every routing key of `exchange`, declared before anything publishes.
    public static func tap(_ connection: AMQPConnection, exchange: String) async throws -> String {
        let queue = "tap-\(UUID().uuidString.prefix(8))"
        try await connection.declare(
            Topology(
                exchanges: [.init(name: exchange, type: "topic")],
                queues: [.init(name: queue, durable: false, autoDelete: true)],
                bindings: [.init(source: exchange, destination: queue, routingKey: "#")]
            ))
        return queue
    }

}

/// Reads a consumer for the whole test, acking and keeping every delivery, so a test can ask
/// for the next few several times. (Cancelling a task that iterates a consumer ends the
/// consumer itself, so each wait must not own the iteration.)
public final class DeliveryBuffer: Sendable {
    private final class Received: Sendable {
        let deliveries = Mutex<[Delivery]>([])
    }

    private let received = Received()
    private let cursor = Mutex(0)
    private let reader: Task<Void, any Error>

    public init(_ consumer: Consumer) {
        let received = received
        reader = Task {
            for try await delivery in consumer {
                try delivery.ack()
                received.deliveries.withLock { $0.append(delivery) }
            }
        }
    }

    /// The next `count` deliveries; fewer when `timeout` passes first, so asking for one more
    /// than expected proves nothing else came.
    public func take(_ count: Int, timeout: Duration = .seconds(20)) async throws -> [Delivery] {
        let start = cursor.withLock { $0 }
        let deadline = ContinuousClock.now + timeout
        while received.deliveries.withLock({ $0.count }) - start < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let taken = received.deliveries.withLock { Array($0[start..<min($0.count, start + count)]) }
        cursor.withLock { $0 = start + taken.count }
        return taken
    }

    public func stop() {
        reader.cancel()
    }
}

public struct ManagementError: Error, CustomStringConvertible {
    public let description: String
}

/// Lets at most `limit` callers run at once; the others wait their turn, first come first served.
public actor AsyncGate {
    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(limit: Int) {
        self.limit = limit
    }

    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if running < limit {
            running += 1
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
        defer {
            if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}
