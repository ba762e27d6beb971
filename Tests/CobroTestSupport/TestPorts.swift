import Foundation
import Synchronization

/// Ports for executables that must know each other's address before they start (the sandbox
/// calls the gateway's webhook URL, the gateway calls the sandbox).
///
/// They come from 10000–19999, below Linux's ephemeral range (32768–60999), so the kernel never
/// hands one out for a `port 0` bind or an outgoing connection: only a test that asked for it
/// binds it. Each is checked free when handed out, and never handed out twice in a test process.
public enum TestPorts {
    private static let next = Mutex(10_000 + Int.random(in: 0..<4_000))

    public struct Exhausted: Error {}

    public static func reserve() throws -> Int {
        for _ in 0..<200 {
            let candidate = next.withLock { value -> Int in
                defer { value = value >= 19_900 ? 10_000 : value + 1 }
                return value
            }
            if [15672, 15692].contains(candidate) { continue }
            if isFree(candidate) { return candidate }
        }
        throw Exhausted()
    }

    static func isFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
