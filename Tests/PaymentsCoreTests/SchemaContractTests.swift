import CobroTestSupport
import Foundation
import PaymentsCore
import Testing

/// The published schemas and the code must agree in both directions: what PaymentsCore writes
/// validates against `schemas/`, and every example in `schemas/` reads in PaymentsCore.
@Suite("Schemas in schemas/ match the code")
struct SchemaContractTests {
    static let schemas = Fixtures.repositoryRoot.appendingPathComponent("schemas")

    @Test("every event PaymentsCore encodes validates against its schema and parses with the CloudEvents SDK")
    func encodedEventsValidate() throws {
        let envelopes =
            try Fixtures.everyEvent.map {
                try EventEnvelope(event: $0, time: Fixtures.created, traceparent: EnvelopeTests.trace).encoded()
            } + [try EventEnvelope(event: Fixtures.everyEvent[0]).encoded()]
        let results = try validateWithSchemas(envelopes)
        #expect(results.count == envelopes.count)
        for (body, result) in zip(envelopes, results) {
            #expect(result.ok, "\(String(decoding: body, as: UTF8.self)): \(result.errors)")
        }
    }

    @Test("the schemas refuse what PaymentsCore refuses")
    func invalidEventsAreRefusedByBoth() throws {
        // Built without validation, as a buggy producer would: a failed payment in a success event,
        // and lines that do not match the currency's rules are caught by both sides.
        let wrongStatus = DomainEvent.paymentSucceeded(
            PaymentSucceeded(
                order: Fixtures.chileanOrder, checkout: Fixtures.checkout(),
                payment: PaymentSnapshot(id: "pi_1", status: .failed), mode: .test, occurredAt: Fixtures.created))
        var badOrder = Fixtures.chileanOrder
        badOrder.lineItems[0].quantity = 0
        let badLine = DomainEvent.checkoutExpired(
            CheckoutExpired(
                order: badOrder, checkout: Fixtures.checkout(), mode: .test, occurredAt: Fixtures.created))
        // next_action outside payment.action_required, or one a consumer could not show safely.
        let pendingWithAction = DomainEvent.paymentPending(
            PaymentPending(
                order: Fixtures.chileanOrder, checkout: Fixtures.checkout(),
                payment: PaymentSnapshot(id: "pi_1", status: .pending, nextAction: Fixtures.nextAction), mode: .test,
                occurredAt: Fixtures.created))
        let badActions = [
            NextAction(type: "approve in bank"),
            NextAction(type: "approve_in_bank", message: "Approve it\r\nBcc: someone@example.com"),
            NextAction(type: "approve_in_bank", message: " "),
            NextAction(type: "approve_in_bank", message: String(repeating: "a", count: NextAction.maxMessageLength + 1)),
            NextAction(
                type: "approve_in_bank",
                other: Dictionary(uniqueKeysWithValues: (0..<NextAction.maxMembers).map { ("k\($0)", JSONValue.null) })),
        ].map { action in
            DomainEvent.paymentActionRequired(
                PaymentActionRequired(
                    order: Fixtures.chileanOrder, checkout: Fixtures.checkout(),
                    payment: PaymentSnapshot(id: "pi_1", status: .requiresAction, nextAction: action), mode: .test,
                    occurredAt: Fixtures.created))
        }
        for event in [wrongStatus, badLine, pendingWithAction] + badActions {
            #expect(throws: ValidationError.self) { try event.validate() }
            let result = try #require(try validateWithSchemas([EventEnvelope(event: event).encoded()]).first)
            #expect(!result.ok, "schema accepted \(event.id)")
        }
    }

    @Test(
        "every data schema example, of every version read, decodes as its event type in PaymentsCore",
        arguments: EventType.allCases, EventType.readableVersions)
    func dataExamplesDecode(type: EventType, version: Int) throws {
        let url = Self.schemas.appendingPathComponent("events/\(type.rawValue).v\(version).json")
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(schema["$id"] as? String == type.dataSchema(version: version))
        let examples = try #require(schema["examples"] as? [Any])
        #expect(!examples.isEmpty)
        for example in examples {
            // Wrap each example in a minimal envelope so it goes through the consumer's own path.
            let data = try #require(example as? [String: Any])
            let order = try #require(data["order"] as? [String: Any])
            let envelope: [String: Any] = [
                "specversion": "1.0", "id": "x", "source": "/test", "type": type.rawValue,
                "subject": order["id"]!, "time": "2026-11-21T00:00:00Z",
                "datacontenttype": "application/json", "dataschema": type.dataSchema(version: version), "data": data,
            ]
            let decoded = try EventEnvelope.decode(JSONSerialization.data(withJSONObject: envelope))
            #expect(decoded.type == type)
            #expect(decoded.dataVersion == version)
            #expect((decoded.event.payload.order.storefront != nil) == (version >= 2), "version 2 names the storefront; version 1 cannot")
        }
    }

    @Test("every envelope example decodes, keeps its deterministic id, and re-encodes to the same JSON")
    func envelopeExamplesDecode() throws {
        let url = Self.schemas.appendingPathComponent("envelope.v1.json")
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let examples = try #require(schema["examples"] as? [[String: Any]])
        #expect(Set(examples.compactMap { $0["type"] as? String }) == Set(EventType.allCases.map(\.rawValue)))
        for example in examples {
            let body = try JSONSerialization.data(withJSONObject: example)
            let decoded = try EventEnvelope.decode(body)
            #expect(decoded.id == decoded.event.id)
            // Nothing in the example is lost or changed by the code (timestamps compared as instants).
            let reencoded = try JSONSerialization.jsonObject(with: decoded.encoded())
            #expect(canonicalTimestamps(reencoded) as? NSDictionary == canonicalTimestamps(example) as? NSDictionary)
        }
    }

    @Test("every event type has a schema file and nothing else claims to be one")
    func schemaFilesMatchTypes() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.schemas.appendingPathComponent("events").path)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix("common.v") }
        let names = EventType.allCases.map(\.rawValue) + FulfillmentEventType.allCases.map(\.rawValue)
        #expect(Set(files) == Set(names.flatMap { name in EventType.readableVersions.map { "\(name).v\($0).json" } }))
        #expect(EventType.allCases.allSatisfy { $0.currentVersion == FulfillmentEventType.currentVersion })
    }

    @Test("the worker's order.confirmed and order.backordered validate against their schemas and parse with the CloudEvents SDK")
    func fulfillmentEventsValidate() throws {
        let confirmed = OrderFulfillment(
            order: Fixtures.chileanOrder, checkoutID: try CheckoutID("chk_1"), paymentID: "pi_1", mode: .test,
            occurredAt: Fixtures.created, shortfall: [])
        var backordered = confirmed
        backordered.shortfall = [.init(sku: Fixtures.chileanOrder.lineItems[0].sku, quantity: 2, available: 1)]
        let bodies = try [confirmed, backordered].map { try FulfillmentEnvelope(data: $0, attempt: 1).encoded() }
        let results = try validateWithSchemas(bodies)
        #expect(results.count == 2)
        for (body, result) in zip(bodies, results) {
            #expect(result.ok, "\(String(decoding: body, as: UTF8.self)): \(result.errors)")
        }
        // A confirmation that lists a shortfall contradicts its schema.
        var contradictory = try JSONSerialization.jsonObject(with: bodies[1]) as! [String: Any]
        contradictory["type"] = "order.confirmed"
        contradictory["dataschema"] = FulfillmentEventType.orderConfirmed.dataSchema
        #expect(try validateWithSchemas([JSONSerialization.data(withJSONObject: contradictory)]).first?.ok == false)
    }

    @Test("every order.* schema example decodes in PaymentsCore", arguments: FulfillmentEventType.allCases, EventType.readableVersions)
    func fulfillmentExamplesDecode(type: FulfillmentEventType, version: Int) throws {
        let url = Self.schemas.appendingPathComponent("events/\(type.rawValue).v\(version).json")
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(schema["$id"] as? String == type.dataSchema(version: version))
        for example in try #require(schema["examples"] as? [Any]) {
            let data = try OrderFulfillment.decodeForTest(JSONSerialization.data(withJSONObject: example))
            #expect(data.type == type)
        }
    }

    /// The same JSON value with every timestamp string rewritten in the one form the code writes.
    private func canonicalTimestamps(_ value: Any) -> Any {
        switch value {
        case let text as String: Timestamp.parse(text).map(Timestamp.format) ?? text
        case let object as [String: Any]: object.mapValues(canonicalTimestamps)
        case let array as [Any]: array.map(canonicalTimestamps)
        default: value
        }
    }

    struct Result: Decodable {
        let ok: Bool
        let errors: [String]
    }

    /// Runs `scripts/check-schemas --validate`: jsonschema (2020-12) plus the CloudEvents SDK.
    private func validateWithSchemas(_ bodies: [Data]) throws -> [Result] {
        // Input and output as files: the child's streams are never pipes to drain.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-schemas-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (input, output, errors) = (
            directory.appendingPathComponent("in"), directory.appendingPathComponent("out"), directory.appendingPathComponent("err")
        )
        var lines = Data()
        for body in bodies {
            lines.append(body)
            lines.append(UInt8(ascii: "\n"))
        }
        try lines.write(to: input)
        // The checkout's private Python (scripts/deps builds it), where the validators are pinned.
        let process = try ChildProcess(
            Fixtures.repositoryRoot.appendingPathComponent("scripts/python"),
            [Fixtures.repositoryRoot.appendingPathComponent("scripts/check-schemas").path, "--validate"],
            input: input, output: output, errors: errors)
        process.waitUntilExit()
        let outputData = (try? Data(contentsOf: output)) ?? Data()
        let errorData = (try? Data(contentsOf: errors)) ?? Data()
        try #require(
            process.terminationStatus == 0,
            "check-schemas failed (run scripts/deps): \(String(decoding: errorData, as: UTF8.self))"
        )
        return try String(decoding: outputData, as: UTF8.self)
            .split(separator: "\n")
            .map { try JSONDecoder().decode(Result.self, from: Data($0.utf8)) }
    }
}

extension OrderFulfillment {
    static func decodeForTest(_ data: Data) throws -> OrderFulfillment {
        try Timestamp.jsonDecoder().decode(OrderFulfillment.self, from: data)
    }
}
