import Foundation
import Logging

/// A connection to RabbitMQ that survives broker restarts.
///
/// Each connection owns one dedicated thread (librabbitmq is blocking and not thread-safe);
/// every method here hands a command to that thread and suspends until it answers, so no call
/// ever blocks Swift's cooperative pool. After a connection or channel loss the thread
/// reconnects with capped exponential backoff and jitter, re-declares the registered topology
/// and re-subscribes consumers. Call `close()` when done: it ends the thread.
public final class AMQPConnection: Sendable {
    let driver: ConnectionDriver
    public let configuration: AMQPConfiguration

    private init(driver: ConnectionDriver) {
        self.driver = driver
        configuration = driver.configuration
    }

    // A connection dropped without `close()` would keep its thread and socket forever. Its
    // consumers end with it, so keep the connection while consuming.
    deinit {
        _ = driver.submit(.close(nil))
    }

    /// Connects (and declares `configuration.topology`); throws if this first attempt fails.
    public static func connect(
        _ configuration: AMQPConfiguration,
        logger: Logger = Logger(label: "cobro.amqp")
    ) async throws -> AMQPConnection {
        let driver = try ConnectionDriver(configuration: configuration, logger: logger)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            driver.start(connected: continuation)
        }
        return AMQPConnection(driver: driver)
    }

    public static func connect(
        url: String, connectionName: String = "cobro",
        logger: Logger = Logger(label: "cobro.amqp")
    ) async throws -> AMQPConnection {
        try await connect(AMQPConfiguration(url: url, connectionName: connectionName), logger: logger)
    }

    /// Whether the connection is up right now (false while it reconnects).
    public var isConnected: Bool { driver.isConnected }

    /// How many times the connection was established, the first time included; more than one
    /// means it recovered from a loss.
    public var connectionCount: Int { driver.connectionCount }

    // MARK: Topology

    /// Declares exchanges, queues and bindings. With `remember` (the default) they are declared
    /// again after every reconnection. A declaration that conflicts with what the broker has
    /// throws `AMQPError.channelClosed` with the broker's 406 reply; the connection stays usable.
    public func declare(_ topology: Topology, remember: Bool = true) async throws {
        try await request { .declare(topology, remember: remember, $0) }
    }

    /// Message and consumer counts of an existing queue (a passive declaration).
    public func inspectQueue(_ name: String) async throws -> QueueStatus {
        guard case .status(let status) = try await queueOperation(.inspect(name)) else { throw AMQPError.notConnected }
        return status
    }

    /// Deletes a queue; returns how many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String) async throws -> Int {
        guard case .count(let count) = try await queueOperation(.deleteQueue(name)) else { return 0 }
        return count
    }

    @discardableResult
    public func purgeQueue(_ name: String) async throws -> Int {
        guard case .count(let count) = try await queueOperation(.purge(name)) else { return 0 }
        return count
    }

    public func deleteExchange(_ name: String) async throws {
        _ = try await queueOperation(.deleteExchange(name))
    }

    private func queueOperation(_ operation: QueueOperation) async throws -> QueueOperationResult {
        try await request { .queue(operation, $0) }
    }

    private func request<T: Sendable>(_ make: (CheckedContinuation<T, any Error>) -> Command) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            if !driver.submit(make(continuation)) {
                continuation.resume(throwing: AMQPError.closed)
            }
        }
    }

    // MARK: Publishing

    /// Publishes with publisher confirms and suspends until the broker settles the message.
    /// At most `configuration.publishWindow` messages are unconfirmed at a time; further
    /// publishes wait their turn. Never throws: every way a publish can end is an outcome.
    public func publish(_ message: OutboundMessage) async -> PublishOutcome {
        await withCheckedContinuation { continuation in
            if !driver.submit(.publish(message, .single(continuation))) {
                continuation.resume(returning: .connectionLost(.closed))
            }
        }
    }

    /// Publishes `messages` in their order (the broker receives them in that order on one
    /// channel, pipelined within the window) and returns each outcome, in the same order, once
    /// every one is settled. Callers that must keep an order across messages use this rather
    /// than concurrent single publishes, whose submission order is up to the scheduler.
    public func publish(_ messages: [OutboundMessage]) async -> [PublishOutcome] {
        guard !messages.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let batch = PublishBatch(count: messages.count, continuation: continuation)
            for (index, message) in messages.enumerated() where !driver.submit(.publish(message, .batch(batch, index: index))) {
                batch.settle(index, .connectionLost(.closed))
            }
        }
    }

    public func publish(
        _ body: Data, exchange: String, routingKey: String,
        properties: BasicProperties = BasicProperties(), mandatory: Bool = true
    ) async -> PublishOutcome {
        await publish(
            OutboundMessage(
                exchange: exchange, routingKey: routingKey, body: body, properties: properties,
                mandatory: mandatory))
    }

    // MARK: Consuming

    /// Subscribes to a queue with manual acknowledgements. At most `prefetch` deliveries are
    /// unsettled at a time. The consumer is re-subscribed after a reconnection; deliveries of
    /// the lost connection can no longer be settled (the broker redelivers them, flagged
    /// `redelivered`).
    public func consume(
        queue: String, prefetch: UInt16 = 64, exclusive: Bool = false,
        arguments: FieldTable = [:], tag: String? = nil
    ) async throws -> Consumer {
        let spec = ConsumerSpec(
            queue: queue, tag: tag ?? "cobro-\(UUID().uuidString.lowercased())",
            prefetch: prefetch, exclusive: exclusive, arguments: arguments)
        let (stream, continuation) = AsyncThrowingStream<Delivery, any Error>.makeStream()
        let driver = driver
        continuation.onTermination = { termination in
            // A consumer abandoned by its reader is cancelled so the broker stops sending.
            if case .cancelled = termination {
                _ = driver.submit(.cancel(consumerTag: spec.tag, nil))
            }
        }
        try await request { .consume(spec, continuation, $0) }
        return Consumer(stream: stream, tag: spec.tag, queue: queue, driver: driver)
    }

    // MARK: Closing

    /// Waits (up to a few seconds) for unconfirmed publishes, closes the connection cleanly,
    /// ends every consumer sequence and the connection's thread.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !driver.submit(.close(continuation)) {
                continuation.resume()
            }
        }
    }
}

/// The deliveries of one subscription, in order. The sequence ends normally when the consumer
/// is cancelled or the connection closed, and with `AMQPError.consumerCancelled` when the broker
/// cancels it (its queue was deleted). It survives the loss of its channel (re-subscribed on a
/// new one) and of the connection (re-subscribed after reconnecting); deliveries of the lost
/// channel are redelivered and settling them has no effect.
public struct Consumer: AsyncSequence, Sendable {
    public typealias Element = Delivery
    public typealias AsyncIterator = AsyncThrowingStream<Delivery, any Error>.AsyncIterator

    let stream: AsyncThrowingStream<Delivery, any Error>
    public let tag: String
    public let queue: String
    let driver: ConnectionDriver

    public func makeAsyncIterator() -> AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// Stops the subscription; unsettled deliveries go back to the queue.
    public func cancel() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !driver.submit(.cancel(consumerTag: tag, continuation)) {
                continuation.resume()
            }
        }
    }
}
