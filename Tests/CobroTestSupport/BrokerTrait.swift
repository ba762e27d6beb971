import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension Tag {
    /// Tests that need a RabbitMQ broker; the `.needsBroker` condition beside it does the skipping.
    @Tag public static var broker: Self
}

extension Trait where Self == ConditionTrait {
    /// For a suite or test that talks to RabbitMQ: runs when a broker answers at `AMQP_URL`,
    /// and is skipped with the reason when none does, so `swift test` on a machine without one
    /// still runs the fast tier. `scripts/test` sets `COBRO_REQUIRE_BROKER=1`: there a missing
    /// broker must fail the tests loudly, never skip them.
    public static var needsBroker: Self {
        .enabled(
            if: BrokerFixture.isRequired || BrokerFixture.isReachable,
            "needs RabbitMQ at AMQP_URL (\(BrokerFixture.redactedURL)): start one with scripts/broker start, or run scripts/test"
        )
    }
}

extension BrokerFixture {
    /// Whether `scripts/test` asked for every broker test to run.
    public static var isRequired: Bool { ProcessInfo.processInfo.environment["COBRO_REQUIRE_BROKER"] == "1" }

    /// Whether something accepts TCP connections at `AMQP_URL`'s host and port, checked once
    /// per test process with a short timeout.
    public static let isReachable: Bool = {
        guard let components = URLComponents(string: url), let host = components.host else { return false }
        return canConnect(host: host, port: components.port ?? 5672, timeoutMilliseconds: 500)
    }()

    /// `AMQP_URL` without its password, for messages.
    public static var redactedURL: String {
        guard var components = URLComponents(string: url) else { return "unparseable" }
        if components.password != nil { components.password = "redacted" }
        return components.string ?? "unparseable"
    }

    static func canConnect(host: String, port: Int, timeoutMilliseconds: Int32) -> Bool {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else { return false }
        defer { freeaddrinfo(found) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            defer { entry = address.pointee.ai_next }
            let descriptor = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            let flags = fcntl(descriptor, F_GETFL, 0)
            _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
            if connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return true }
            guard errno == EINPROGRESS else { continue }
            var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            guard poll(&poller, 1, timeoutMilliseconds) == 1 else { continue }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 { return true }
        }
        return false
    }
}
