import Fintoc
import Foundation
import PaymentsCore

/// Webhook endpoints and refunds through the API.
extension SandboxStore {
    // MARK: Webhook endpoints

    func createEndpoint(_ body: BodyFields) throws(SandboxError) -> JSONValue {
        let url = try body.url("url", required: true)!
        let events = try enabledEvents(body, required: true)!
        let id = SandboxID.webhookEndpoint()
        let disabled = try body.bool("disabled") ?? false
        let endpoint = WebhookEndpoint(
            id: id, mode: .test, url: url, enabledEvents: events, status: disabled ? .disabled : .enabled,
            description: try body.string("description"), secret: nil, createdAt: timestamp(), metadata: try body.metadata() ?? [:]
        )
        let record = EndpointRecord(endpoint: endpoint, secret: SandboxID.webhookSecret(), sequence: nextSequence())
        endpoints[id] = record
        logger.debug("webhook endpoint created", metadata: ["webhook_endpoint_id": "\(id)"])
        return Rendering.endpoint(record, showSecret: true)
    }

    /// Subscribes `url` to every event, signed with `secret`: what `SANDBOX_WEBHOOK_URL` does at
    /// start, for an embedding program (a test) that learns the receiver's address later.
    @discardableResult
    public func subscribe(url: String, secret: String) -> String {
        let id = SandboxID.webhookEndpoint()
        let endpoint = WebhookEndpoint(
            id: id, mode: .test, url: url, enabledEvents: ["*"], status: .enabled,
            description: "subscribed by the embedding program", secret: nil, createdAt: timestamp(), metadata: [:]
        )
        endpoints[id] = EndpointRecord(endpoint: endpoint, secret: secret, sequence: nextSequence())
        return id
    }

    func endpointJSON(_ id: String) throws(SandboxError) -> JSONValue {
        guard let record = endpoints[id] else { throw .missingResource("webhook_endpoint", id: id) }
        return Rendering.endpoint(record, showSecret: false)
    }

    func listEndpoints() -> [JSONValue] {
        endpoints.values.sorted { $0.sequence > $1.sequence }.map { Rendering.endpoint($0, showSecret: false) }
    }

    func updateEndpoint(_ id: String, _ body: BodyFields) throws(SandboxError) -> JSONValue {
        guard var record = endpoints[id] else { throw .missingResource("webhook_endpoint", id: id) }
        if let url = try body.url("url", required: false) { record.endpoint.url = url }
        if let events = try enabledEvents(body, required: false) { record.endpoint.enabledEvents = events }
        if body.has("description") { record.endpoint.description = try body.string("description") }
        if let disabled = try body.bool("disabled") { record.endpoint.status = disabled ? .disabled : .enabled }
        if let status = try body.string("status") {
            guard ["enabled", "disabled"].contains(status) else { throw .invalidParameter("status", "status must be enabled or disabled.") }
            record.endpoint.status = .init(rawValue: status)
        }
        if let metadata = try body.metadata() { record.endpoint.metadata = metadata }
        endpoints[id] = record
        return Rendering.endpoint(record, showSecret: false)
    }

    func deleteEndpoint(_ id: String) throws(SandboxError) -> JSONValue {
        guard let record = endpoints.removeValue(forKey: id) else { throw .missingResource("webhook_endpoint", id: id) }
        guard case .object(var object) = Rendering.endpoint(record, showSecret: false) else { return .null }
        object["deleted"] = true
        return .object(object)
    }

    /// Sends one `webhook_endpoint.test` event to this endpoint only; answers the event.
    func testEndpoint(_ id: String) throws(SandboxError) -> JSONValue {
        guard let record = endpoints[id] else { throw .missingResource("webhook_endpoint", id: id) }
        emit([("webhook_endpoint.test", Rendering.endpoint(record, showSecret: false))], onlyEndpointID: id)
        guard let event = events.last else { throw .invalidState("the test event could not be recorded", code: "internal_error") }
        return Rendering.value(event)
    }

    private func enabledEvents(_ body: BodyFields, required: Bool) throws(SandboxError) -> [String]? {
        guard let items = try body.array("enabled_events") else {
            if required { throw .missingParameter("enabled_events") }
            return nil
        }
        var events: [String] = []
        for (index, item) in items.enumerated() {
            guard let text = item.stringValue, text == "*" || text.contains(".") else {
                throw .invalidParameter(
                    "enabled_events[\(index)]", "enabled_events holds event types such as payment_intent.succeeded, or \"*\".")
            }
            events.append(text)
        }
        guard !events.isEmpty else { throw .missingParameter("enabled_events") }
        return events
    }

    // MARK: Refunds

    func createRefund(_ body: BodyFields) throws(SandboxError) -> JSONValue {
        let resourceID = try body.requiredString("resource_id")
        let resourceType = try body.string("resource_type") ?? "payment_intent"
        guard resourceType == "payment_intent" else {
            throw .invalidParameter("resource_type", "resource_type must be payment_intent.")
        }
        guard let intent = intents[resourceID]?.intent else {
            throw .missingResource("payment_intent", id: resourceID, param: "resource_id")
        }
        guard intent.status == .succeeded else {
            throw .init(
                status: .badRequest, type: .invalidRequestError, code: "payment_intent_not_refundable",
                message: "Only a succeeded payment intent can be refunded; \(resourceID) is \(intent.status).", param: "resource_id")
        }
        let refunded = refunds.values.filter {
            $0.refund.resourceID == resourceID && $0.refund.status != .failed && $0.refund.status != .canceled
        }.reduce(Int64(0)) { $0 + $1.refund.amount }
        let remaining = intent.amount - refunded
        let amount = try body.amount("amount", allowZero: false) ?? remaining
        guard amount <= remaining, remaining > 0 else {
            throw .invalidParameter("amount", "The refund amount exceeds what is left to refund (\(remaining)).", code: "invalid_amount")
        }
        let id = SandboxID.refund()
        let refund = Refund(
            id: id, mode: .test, status: .inProgress, amount: amount, currency: intent.currency, resourceID: resourceID,
            createdAt: timestamp(), metadata: try body.metadata() ?? [:])
        refunds[id] = RefundRecord(refund: refund, settleAt: now().addingTimeInterval(configuration.settleDelay), sequence: nextSequence())
        emit([(.refundInProgress, Rendering.refund(refund))])
        return Rendering.refund(refund)
    }

    func refundJSON(_ id: String) throws(SandboxError) -> JSONValue {
        guard let record = refunds[id] else { throw .missingResource("refund", id: id) }
        return Rendering.refund(record.refund)
    }

    func listRefunds() -> [JSONValue] {
        refunds.values.sorted { $0.sequence > $1.sequence }.map { Rendering.refund($0.refund) }
    }

    func completeRefund(id: String, outcome: Outcome) throws(SandboxError) {
        guard var record = refunds[id] else { throw .missingResource("refund", id: id) }
        guard record.refund.status == .inProgress || record.refund.status == .created else {
            throw .invalidState("Refund \(id) is already \(record.refund.status).", code: "refund_final")
        }
        switch outcome {
        case .succeeded: record.refund.status = .succeeded
        case .failed, .rejected: record.refund.status = .failed
        default: throw .invalidParameter("outcome", "A refund can only be completed as succeeded or failed.")
        }
        record.settleAt = nil
        refunds[id] = record
        emit([(record.refund.status == .succeeded ? .refundSucceeded : .refundFailed, Rendering.refund(record.refund))])
    }
}
