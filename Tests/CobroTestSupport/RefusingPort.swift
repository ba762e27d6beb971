#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP port that refuses connections while held: bound, never listening, so no
/// other test's server can take it until `release()`. For "the receiver is down" tests, and for
/// a server that must later start on this very port (release just before starting it).
public final class RefusingPort: Sendable {
    public let port: Int
    private let descriptor: Int32

    public struct Unavailable: Error {}

    public init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Unavailable() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw Unavailable()
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Frees the port (idempotent only in effect: call once).
    public func release() {
        close(descriptor)
    }
}
