import AMQP
import Foundation
import PaymentsCore
import Synchronization

/// One message parked in `fulfillment.payments.dlq`, as `dlq list` shows it.
public struct ParkedMessage: Sendable, Hashable, Codable {
    /// The AMQP `message_id` (the event id), or `body-<hash>` for a message that had none.
    public var id: String
    public var type: String?
    /// `data.order.storefront`, when the body names one (version 2 events).
    public var storefront: String?
    public var orderID: String?
    public var routingKey: String
    public var reason: String
    public var parkedAt: String?
    public var retries: Int
    public var bytes: Int

    enum CodingKeys: String, CodingKey {
        case id, type, storefront, reason, retries, bytes
        case orderID = "order_id"
        case routingKey = "routing_key"
        case parkedAt = "parked_at"
    }
}

/// The operator's view of the dead-letter queue: list parked messages without removing them,
/// and send them back to the work queue (redrive) once the cause is fixed.
///
/// Both read the queue through a consumer and settle only what they act on; closing the
/// consumer returns the rest to the queue untouched. A redriven message goes straight to
/// `fulfillment.payments` (the default exchange), never back through `payments.events`, so other
/// teams' queues do not see it twice, and only after the broker confirmed the copy is the parked
/// one acked.
public struct DeadLetters: Sendable {
    public let connection: AMQPConnection
    /// How long to wait for the broker to deliver what it said the queue holds.
    public var timeout: Duration = .seconds(10)
    public static let maxMessages = 10_000

    public init(connection: AMQPConnection) {
        self.connection = connection
    }

    public func list() async throws -> [ParkedMessage] {
        try await withParked { deliveries in deliveries.map(Self.describe) }
    }

    /// Redrives the message with `id`, or every parked message when `id` is nil; returns the
    /// ids sent back.
    public func redrive(id: String?) async throws -> [String] {
        try await withParked { deliveries in
            var redriven: [String] = []
            for delivery in deliveries {
                let parked = Self.describe(delivery)
                guard id == nil || parked.id == id else { continue }
                var properties = delivery.properties
                for header in [
                    PaymentsTopology.Header.parkedReason, PaymentsTopology.Header.parkedAt, PaymentsTopology.Header.retryCount,
                    "x-death", "x-delivery-count", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
                    "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason",
                ] {
                    properties.headers[header] = nil
                }
                properties.headers[PaymentsTopology.Header.redrivenAt] = .string(Timestamp.format(Date()))
                let outcome = await connection.publish(
                    OutboundMessage(
                        exchange: "", routingKey: PaymentsTopology.fulfillmentQueue,
                        body: delivery.body, properties: properties, mandatory: true))
                guard outcome.isAcked else { throw DeadLetterError.redriveNotConfirmed(parked.id, "\(outcome)") }
                try delivery.ack()
                redriven.append(parked.id)
            }
            return redriven
        }
    }

    /// Takes every message the queue holds right now (up to `maxMessages`), runs `body`, then
    /// closes the consumer so whatever was not acked goes back to the queue.
    private func withParked<T: Sendable>(_ body: ([Delivery]) async throws -> T) async throws -> T {
        let count = min(try await connection.inspectQueue(PaymentsTopology.deadLetterQueue).messageCount, Self.maxMessages)
        guard count > 0 else { return try await body([]) }
        let consumer = try await connection.consume(queue: PaymentsTopology.deadLetterQueue, prefetch: UInt16(min(count, 65_535)))
        let received = Received()
        let reader = Task {
            for try await delivery in consumer { received.deliveries.withLock { $0.append(delivery) } }
        }
        let deadline = ContinuousClock.now + timeout
        while received.deliveries.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let deliveries = received.deliveries.withLock { Array($0.prefix(count)) }
        do {
            let result = try await body(deliveries)
            await consumer.cancel()
            _ = await reader.result
            return result
        } catch {
            await consumer.cancel()
            _ = await reader.result
            throw error
        }
    }

    private final class Received: Sendable {
        let deliveries = Mutex<[Delivery]>([])
    }

    static func describe(_ delivery: Delivery) -> ParkedMessage {
        let headers = delivery.headers
        let envelope = (try? JSONSerialization.jsonObject(with: delivery.body)) as? [String: Any]
        let reason =
            headers[PaymentsTopology.Header.parkedReason]?.stringValue
            ?? delivery.deaths.first.map { "broker dead-lettered it: \($0.reason ?? "unknown") from \($0.queue ?? "?")" }
            ?? "unknown"
        return ParkedMessage(
            id: delivery.properties.messageID ?? "body-\(fnv1a(delivery.body))",
            type: delivery.properties.type ?? envelope?["type"] as? String,
            storefront: ((envelope?["data"] as? [String: Any])?["order"] as? [String: Any])?["storefront"] as? String,
            orderID: envelope?["subject"] as? String,
            routingKey: headers[PaymentsTopology.Header.originalRoutingKey]?.stringValue ?? delivery.routingKey,
            reason: reason,
            parkedAt: headers[PaymentsTopology.Header.parkedAt]?.stringValue,
            retries: Int(headers[PaymentsTopology.Header.retryCount]?.intValue ?? 0),
            bytes: delivery.body.count
        )
    }

    /// A short stable name for a message without an id (FNV-1a, 64 bits, hex).
    static func fnv1a(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

public enum DeadLetterError: Error, CustomStringConvertible {
    case redriveNotConfirmed(String, String)

    public var description: String {
        switch self {
        case .redriveNotConfirmed(let id, let outcome): "the broker did not confirm the redrive of \(id) (\(outcome)); it stays parked"
        }
    }
}
