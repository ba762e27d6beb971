import AMQP
import CobroTestSupport
import Foundation
import Logging
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The broker the tests talk to: `scripts/test` starts a private one and exports its URLs.
enum TestBroker {
    static var url: String { BrokerFixture.url }
    static var managementURL: String { BrokerFixture.managementURL }

    static func configuration(
        name: String = "amqp-tests", heartbeat: Int? = nil, window: Int = 256,
        topology: Topology = Topology()
    ) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: url, connectionName: name)
        if let heartbeat { configuration.heartbeat = heartbeat }
        configuration.publishWindow = window
        configuration.reconnectBackoff = Backoff(base: .milliseconds(100), cap: .seconds(1))
        configuration.topology = topology
        return configuration
    }

    static func connect(
        name: String = "amqp-tests", heartbeat: Int? = nil, window: Int = 256,
        topology: Topology = Topology()
    ) async throws -> AMQPConnection {
        try await AMQPConnection.connect(
            configuration(name: name, heartbeat: heartbeat, window: window, topology: topology),
            logger: logger(name))
    }

    /// Debug logs on stderr when AMQP_TEST_LOG is set, to see a failing test's connection.
    static func logger(_ name: String) -> Logger {
        guard ProcessInfo.processInfo.environment["AMQP_TEST_LOG"] != nil else { return Logger(label: name) }
        var logger = Logger(label: name, factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .trace
        return logger
    }

    static func unique(_ prefix: String) -> String {
        "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// The checkout's root, to run `scripts/broker` with the environment the tests inherited.
    /// GETs a management API path with the credentials of `RABBITMQ_MGMT_URL`.
    static func management(_ path: String) async throws -> Data {
        guard var components = URLComponents(string: managementURL) else { throw AMQPError.invalidURL("management") }
        let user = components.user ?? "guest"
        let password = components.password ?? "guest"
        components.user = nil
        components.password = nil
        components.path = "/api/" + path
        var request = URLRequest(url: components.url!)
        let token = Data("\(user):\(password)".utf8).base64EncodedString()
        request.setValue("Basic \(token)", forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        return data
    }
}

/// Reads deliveries until `count` arrive or `timeout` passes.
func collect(
    _ consumer: Consumer, count: Int, timeout: Duration = .seconds(10),
    settle: @escaping @Sendable (Delivery) throws -> Void = { try $0.ack() }
) async throws -> [Delivery] {
    try await withThrowingTaskGroup(of: [Delivery]?.self) { group in
        group.addTask {
            var received: [Delivery] = []
            for try await delivery in consumer {
                received.append(delivery)
                try settle(delivery)
                if received.count == count { break }
            }
            return received
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let received = first else {
            throw AMQPError.timeout("waiting for \(count) deliveries")
        }
        return received
    }
}

func threadCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
}
