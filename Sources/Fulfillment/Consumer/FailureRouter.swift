import AMQP
import Foundation
import Logging
import PaymentsCore

/// Sends a message that could not be applied where it belongs: through the next retry queue
/// (each holds it for a longer delay, then hands it back to the work queue) or, for a message
/// that can never succeed or has used its last try, to the dead-letter queue with the reason in
/// its headers. The copy is published with confirms before the original is acked, so a message
/// is never in neither place; a crash in between leaves two copies, which the processed-message
/// row makes harmless.
struct FailureRouter: Sendable {
    let retrySteps: [RetryStep]
    let logger: Logger

    static let maxReasonLength = 1000

    enum Route: String {
        case retried, parked
    }

    /// Retries `delivery` after a transient failure, or parks it when its retries are used up.
    func retry(_ delivery: Delivery, reason: String, on connection: AMQPConnection) async -> Route? {
        let done = delivery.headers[PaymentsTopology.Header.retryCount]?.intValue.map(Int.init) ?? 0
        guard done < retrySteps.count else {
            return await park(delivery, reason: "retries exhausted after \(done) tries: \(reason)", on: connection)
        }
        let step = retrySteps[done]
        var properties = delivery.properties
        properties.headers[PaymentsTopology.Header.retryCount] = .int64(Int64(done + 1))
        properties.headers[PaymentsTopology.Header.originalRoutingKey] =
            properties.headers[PaymentsTopology.Header.originalRoutingKey] ?? .string(delivery.routingKey)
        properties.headers["x-death"] = nil
        let outcome = await connection.publish(
            OutboundMessage(
                exchange: PaymentsTopology.retryExchange, routingKey: step.queue,
                body: delivery.body, properties: properties, mandatory: true))
        return settle(delivery, outcome: outcome, route: .retried, reason: reason)
    }

    /// Parks `delivery` in the dead-letter queue with `reason`.
    func park(_ delivery: Delivery, reason: String, on connection: AMQPConnection) async -> Route? {
        var properties = delivery.properties
        properties.headers[PaymentsTopology.Header.parkedReason] = .string(String(reason.prefix(Self.maxReasonLength)))
        properties.headers[PaymentsTopology.Header.parkedAt] = .string(Timestamp.format(Date()))
        properties.headers[PaymentsTopology.Header.originalRoutingKey] =
            properties.headers[PaymentsTopology.Header.originalRoutingKey] ?? .string(delivery.routingKey)
        let outcome = await connection.publish(
            OutboundMessage(
                exchange: PaymentsTopology.deadLetterExchange, routingKey: delivery.routingKey,
                body: delivery.body, properties: properties, mandatory: true))
        return settle(delivery, outcome: outcome, route: .parked, reason: reason)
    }

    /// Acks the original once its copy is safe; otherwise hands it back to the queue to be
    /// tried again (the broker's delivery limit parks a message that keeps coming back).
    private func settle(_ delivery: Delivery, outcome: PublishOutcome, route: Route, reason: String) -> Route? {
        let metadata: Logger.Metadata = [
            "message_id": "\(delivery.properties.messageID ?? "-")", "route": "\(route.rawValue)", "reason": "\(reason.prefix(200))",
        ]
        guard outcome.isAcked else {
            logger.warning(
                "could not \(route == .parked ? "park" : "retry") a message; it goes back to the queue",
                metadata: metadata.merging(["outcome": "\(outcome)"]) { $1 })
            try? delivery.nack(requeue: true)
            return nil
        }
        try? delivery.ack()
        if route == .parked {
            logger.warning("message parked in the dead-letter queue", metadata: metadata)
        } else {
            logger.debug("message sent to a retry queue", metadata: metadata)
        }
        return route
    }
}
