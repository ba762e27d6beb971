import CRabbitMQ
import Foundation
import Logging

/// The consumer a caller opened, kept across reconnections.
final class ConsumerRecord {
    let spec: ConsumerSpec
    let stream: AsyncThrowingStream<Delivery, any Error>.Continuation
    /// The channel of the current subscription; nil while disconnected.
    var channel: UInt16?
    /// Acks are coalesced: every delivery tag below this one is settled on the current channel.
    var lowestUnsettled: UInt64 = 1
    /// Tags above `lowestUnsettled` already settled one by one.
    var settledAhead: Set<UInt64> = []
    /// Single acks received since the last flush, sent together as one `multiple` ack where
    /// they form a contiguous run.
    var pendingAcks: [UInt64] = []

    func resetSettlement() {
        lowestUnsettled = 1
        settledAhead.removeAll()
        pendingAcks.removeAll()
    }

    init(spec: ConsumerSpec, stream: AsyncThrowingStream<Delivery, any Error>.Continuation) {
        self.spec = spec
        self.stream = stream
    }
}

/// Everything the connection thread owns: the librabbitmq connection, publisher confirms,
/// consumers and the supervising reconnect loop. Created and used on that thread only.
final class ConnectionWorker {
    static let controlChannel: UInt16 = 1
    static let publishChannel: UInt16 = 2
    static let firstConsumerChannel: UInt16 = 3
    static let maxChannel: UInt16 = 2047

    enum DeferredAction {
        case reopenControlChannel
        case reopenPublishChannel
        case closeChannel(UInt16)
        case resubscribe(ConsumerRecord)
    }

    let driver: ConnectionDriver
    let configuration: AMQPConfiguration
    let logger: Logger
    var core: ConnectionCore?
    var epoch: UInt64 = 0
    var topology: Topology
    let publishes: PublishTracker
    var publishChannelOpen = false
    var consumers: [String: ConsumerRecord] = [:]
    var channelConsumers: [UInt16: ConsumerRecord] = [:]
    var assemblies: [UInt16: ContentAssembly] = [:]
    var nextChannel = ConnectionWorker.firstConsumerChannel
    var deferred: [DeferredAction] = []
    var closeRequests: [CheckedContinuation<Void, Never>?] = []
    private var commandBuffer: [Command] = []
    var consumersWithPendingAcks: [ConsumerRecord] = []
    private var encoder = PublishEncoder()

    init(driver: ConnectionDriver) {
        self.driver = driver
        configuration = driver.configuration
        logger = driver.logger
        topology = driver.configuration.topology
        publishes = PublishTracker(window: driver.configuration.publishWindow)
    }

    private var pollMilliseconds: Int32 {
        configuration.heartbeat > 0 ? Int32(min(250, configuration.heartbeat * 1000 / 4)) : 250
    }

    // MARK: Supervision

    /// Connects, serves, and after any loss reconnects with backoff until the application closes
    /// the connection. The first attempt's outcome goes to `firstConnection`; if it fails the
    /// thread ends, so a wrong URL or password surfaces at once instead of retrying forever.
    func run(firstConnection: CheckedContinuation<Void, any Error>) {
        var pendingFirst: CheckedContinuation<Void, any Error>? = firstConnection
        var attempt = 0
        var connectedAt: ContinuousClock.Instant?
        while closeRequests.isEmpty {
            epoch += 1
            let epoch = epoch
            driver.shared.withLock { $0.epoch = epoch }
            do {
                let core = try ConnectionCore(configuration: configuration, logger: logger)
                self.core = core
                try setUpSession(core)
                driver.shared.withLock {
                    $0.connected = true
                    $0.connections += 1
                }
                logger.debug("AMQP connected", metadata: ["amqp.url": "\(configuration.redactedURL)", "amqp.epoch": "\(epoch)"])
                pendingFirst?.resume()
                pendingFirst = nil
                connectedAt = ContinuousClock.now
                try serve(core)
                drainBeforeClose(core)
                core.close()
                self.core = nil
                break
            } catch {
                let failure = error as? AMQPError ?? .socket(status: -1, message: "\(error)")
                driver.shared.withLock { $0.connected = false }
                loseConnection(failure)
                if let first = pendingFirst {
                    first.resume(throwing: failure)
                    finish(failure)
                    return
                }
                // The backoff starts over only after a connection that lasted: one that dies right
                // after setting up (a flapping broker, a message that breaks it) keeps backing off.
                if let since = connectedAt, ContinuousClock.now - since >= configuration.reconnectBackoff.cap {
                    attempt = 0
                }
                connectedAt = nil
                let delay = configuration.reconnectBackoff.delay(attempt: attempt)
                logger.debug(
                    "AMQP connection lost; reconnecting",
                    metadata: [
                        "amqp.error": "\(failure)", "amqp.attempt": "\(attempt)", "amqp.delay": "\(delay)",
                    ])
                attempt += 1
                idle(for: delay)
            }
        }
        finish(.closed)
    }

    /// Opens the control and publish channels, re-declares the topology and re-subscribes every
    /// consumer, so a reconnection restores what the application had.
    private func setUpSession(_ core: ConnectionCore) throws {
        nextChannel = Self.firstConsumerChannel
        try core.openChannel(Self.controlChannel)
        try core.openChannel(Self.publishChannel)
        try core.confirmSelect(Self.publishChannel)
        publishChannelOpen = true
        if !topology.isEmpty {
            try core.declare(topology, on: Self.controlChannel)
        }
        for record in consumers.values.sorted(by: { $0.spec.tag < $1.spec.tag }) {
            do {
                try subscribe(record, core)
            } catch let error as AMQPError where error.isChannelLevel {
                consumers[record.spec.tag] = nil
                record.stream.finish(throwing: error)
            }
        }
    }

    private func loseConnection(_ error: AMQPError) {
        core?.destroy()
        core = nil
        publishChannelOpen = false
        publishes.failOutstanding(error)
        publishes.failWaiting(error)
        assemblies.removeAll()
        channelConsumers.removeAll()
        for record in consumers.values {
            record.channel = nil
            record.resetSettlement()
        }
        consumersWithPendingAcks.removeAll()
        deferred.removeAll()
    }

    /// Waits out the backoff delay while still answering callers, so nobody hangs on a
    /// connection that is down.
    private func idle(for delay: Duration) {
        let deadline = ContinuousClock.now + delay
        while closeRequests.isEmpty {
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { break }
            let millis = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
            driver.waitForWork(socket: -1, timeoutMilliseconds: Int32(clamping: max(1, millis)))
            driver.takeCommands(into: &commandBuffer)
            for command in commandBuffer { executeDisconnected(command, error: .notConnected) }
            commandBuffer.removeAll(keepingCapacity: true)
        }
    }

    /// Ends the thread's work: no command is accepted any more and every waiter is answered.
    private func finish(_ error: AMQPError) {
        driver.shared.withLock {
            $0.finished = true
            $0.connected = false
        }
        driver.takeCommands(into: &commandBuffer)
        for command in commandBuffer { executeDisconnected(command, error: error) }
        commandBuffer.removeAll()
        publishes.failOutstanding(error)
        publishes.failWaiting(error)
        for record in consumers.values { record.stream.finish() }
        consumers.removeAll()
        channelConsumers.removeAll()
        logger.debug("AMQP connection thread ends", metadata: ["amqp.url": "\(configuration.redactedURL)"])
        for request in closeRequests { request?.resume() }
        closeRequests.removeAll()
    }

    // MARK: Serving

    private func serve(_ core: ConnectionCore) throws {
        let socket = core.socketDescriptor
        var frame = amqp_frame_t()
        var recheckedBuffer = false
        while true {
            driver.takeCommands(into: &commandBuffer)
            var index = commandBuffer.startIndex
            do {
                while index < commandBuffer.endIndex {
                    let command = commandBuffer[index]
                    index += 1
                    try execute(command, core)
                }
            } catch {
                let failure = error as? AMQPError ?? .notConnected
                for command in commandBuffer[index...] { executeDisconnected(command, error: failure) }
                commandBuffer.removeAll(keepingCapacity: true)
                throw error
            }
            commandBuffer.removeAll(keepingCapacity: true)
            try flushAcks(core)
            if !closeRequests.isEmpty { return }
            try flushPublishes(core)
            let frames = try pump(core, &frame, limit: 4096)
            try runDeferred(core)
            if frames > 0 { recheckedBuffer = false }
            if frames >= 4096 { continue }
            // Frames a synchronous RPC read into librabbitmq's buffers are invisible to poll():
            // read them now. Once only without progress: the buffer may hold just part of a
            // frame, and poll() wakes for the rest.
            if core.hasBufferedInput && !recheckedBuffer {
                recheckedBuffer = true
                continue
            }
            driver.waitForWork(socket: socket, timeoutMilliseconds: pollMilliseconds)
        }
    }

    /// Gives publishes already handed over a few seconds to be confirmed before closing, so a
    /// clean shutdown does not turn them into connection-lost.
    private func drainBeforeClose(_ core: ConnectionCore) {
        let deadline = ContinuousClock.now + .seconds(5)
        var frame = amqp_frame_t()
        // Commands before `index` have been answered by `execute`; only the rest may be answered
        // here, or a caller would be resumed twice.
        var index = commandBuffer.startIndex
        do {
            while !publishes.isIdle && ContinuousClock.now < deadline {
                driver.takeCommands(into: &commandBuffer)
                index = commandBuffer.startIndex
                while index < commandBuffer.endIndex {
                    let command = commandBuffer[index]
                    index += 1
                    try execute(command, core)
                }
                commandBuffer.removeAll(keepingCapacity: true)
                index = commandBuffer.startIndex
                try flushAcks(core)
                try flushPublishes(core)
                _ = try pump(core, &frame, limit: 4096)
                try runDeferred(core)
                driver.waitForWork(socket: core.socketDescriptor, timeoutMilliseconds: 50)
            }
        } catch {
            logger.debug("AMQP close: draining publishes failed", metadata: ["amqp.error": "\(error)"])
        }
        for command in commandBuffer[index...] { executeDisconnected(command, error: .closed) }
        commandBuffer.removeAll()
    }

    /// Sends what the window allows. On plain TCP the batch is encoded into one buffer and
    /// written at once; over TLS the socket belongs to OpenSSL, so each message goes through
    /// librabbitmq.
    func flushPublishes(_ core: ConnectionCore) throws {
        guard publishChannelOpen else { return }
        let frameMax = core.frameMax
        encoder.reset()
        while let (message, completion) = publishes.next() {
            do {
                try encoder.append(message, channel: Self.publishChannel, frameMax: frameMax)
            } catch let error as AMQPError {
                completion.resume(returning: .invalid(error))
                continue
            }
            publishes.sent(message, completion)
            if configuration.tls != nil {
                encoder.reset()
                try core.publish(message, on: Self.publishChannel)
            } else if encoder.count >= 1 << 18 {
                try core.write(encoder.bytes, timeout: configuration.rpcTimeout)
                encoder.reset()
            }
        }
        if encoder.count > 0 {
            try core.write(encoder.bytes, timeout: configuration.rpcTimeout)
            encoder.reset()
        }
    }

    private func pump(_ core: ConnectionCore, _ frame: inout amqp_frame_t, limit: Int) throws -> Int {
        var count = 0
        while count < limit, try core.nextFrame(&frame) {
            try handle(&frame, core)
            count += 1
            if count & 255 == 0 { core.releaseBuffers() }
        }
        core.releaseBuffers()
        return count
    }

    private func runDeferred(_ core: ConnectionCore) throws {
        while !deferred.isEmpty {
            let action = deferred.removeFirst()
            do {
                switch action {
                case .reopenControlChannel:
                    try core.openChannel(Self.controlChannel)
                case .reopenPublishChannel:
                    try core.openChannel(Self.publishChannel)
                    try core.confirmSelect(Self.publishChannel)
                    publishChannelOpen = true
                case .closeChannel(let channel):
                    try core.closeChannel(channel)
                case .resubscribe(let record):
                    guard consumers[record.spec.tag] === record else { break }
                    do {
                        try subscribe(record, core)
                    } catch let error as AMQPError where error.isChannelLevel {
                        consumers[record.spec.tag] = nil
                        record.stream.finish(throwing: error)
                    }
                }
            } catch let error as AMQPError where error.isChannelLevel {
                logger.debug("AMQP channel action failed", metadata: ["amqp.error": "\(error)"])
            }
        }
    }
}

extension AMQPError {
    /// Only the channel is gone; the connection is still usable.
    var isChannelLevel: Bool {
        if case .channelClosed = self { return true }
        return false
    }
}
