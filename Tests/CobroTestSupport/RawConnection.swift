import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection for probing HTTP listeners as a hostile or broken client would:
/// bytes in, bytes out, and whether (and when) the server closed it. Non-blocking (NIO), so
/// probes never hold a thread of Swift's cooperative pool, which the server under test needs.
public final class RawConnection: Sendable {
    private let channel: any Channel
    private let received: Received
    private let opened = ContinuousClock.now

    private init(channel: any Channel, received: Received) {
        self.channel = channel
        self.received = received
    }

    public static func open(port: Int, host: String = "127.0.0.1") async throws -> RawConnection {
        let received = Received()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(received: received)) }
            }
            .connect(host: host, port: port).get()
        return RawConnection(channel: channel, received: received)
    }

    /// Sends `text`; false once the server has closed the connection.
    @discardableResult
    public func send(_ text: String) async -> Bool {
        guard channel.isActive else { return false }
        do {
            try await channel.writeAndFlush(ByteBuffer(string: text)).get()
            return true
        } catch {
            return false
        }
    }

    /// Everything the server sent so far.
    public var text: String { String(decoding: received.bytes.withLock { $0 }, as: UTF8.self) }

    public var isOpen: Bool { channel.isActive }

    /// Waits up to `timeout` for the server to close the connection; true if it did.
    public func waitClosed(timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while channel.isActive, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(25)) }
        return !channel.isActive
    }

    /// Waits up to `timeout` for the server's bytes to contain `marker`.
    public func waitFor(_ marker: String, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !text.contains(marker), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(25)) }
        return text.contains(marker)
    }

    /// Time since the connection was opened.
    public var age: Duration { ContinuousClock.now - opened }

    public func close() async {
        try? await channel.close()
    }

    private final class Received: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let received: Received

        init(received: Received) { self.received = received }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        }
    }
}
