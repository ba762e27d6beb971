import Foundation
import PaymentsCore
import Testing

@Suite("CloudEvents envelope")
struct EnvelopeTests {
    static let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test("every event type survives encode and decode unchanged", arguments: Fixtures.everyEvent)
    func roundTrip(event: DomainEvent) throws {
        let envelope = EventEnvelope(event: event, time: Fixtures.created, traceparent: Self.trace)
        let body = try envelope.encoded()
        let decoded = try EventEnvelope.decode(body)
        #expect(decoded == envelope)
        #expect(try decoded.encoded() == body, "the same envelope gives the same bytes")
    }

    @Test("the structured JSON carries the CloudEvents attributes")
    func attributes() throws {
        let event = Fixtures.everyEvent[2]
        let envelope = EventEnvelope(event: event, time: Date(timeIntervalSince1970: 1_795_000_000.987_6), traceparent: Self.trace)
        let json = try #require(JSONSerialization.jsonObject(with: try envelope.encoded()) as? [String: Any])
        #expect(json["specversion"] as? String == "1.0")
        #expect(json["id"] as? String == "tienda-cl/ord-1001/payment.succeeded/1")
        #expect(json["source"] as? String == "/cobro/payments-gateway")
        #expect(json["type"] as? String == "payment.succeeded")
        #expect(json["subject"] as? String == "ord-1001")
        #expect(json["time"] as? String == "2026-11-18T11:06:40.987Z")
        #expect(json["datacontenttype"] as? String == "application/json")
        #expect(json["dataschema"] as? String == "https://cobro.dev/schemas/events/payment.succeeded.v2.json")
        #expect(json["traceparent"] as? String == Self.trace)
        let data = try #require(json["data"] as? [String: Any])
        #expect(Set(data.keys) == ["order", "checkout", "payment", "mode", "occurred_at"])
        let order = try #require(data["order"] as? [String: Any])
        #expect(order["currency"] as? String == "CLP")
        #expect(order["storefront"] as? String == "tienda-cl")
        #expect((order["line_items"] as? [[String: Any]])?.first?["unit_amount"] as? Int == 100_000)
    }

    @Test("ids are deterministic per fact: order, type and attempt, nothing else")
    func deterministicIDs() throws {
        let events = Fixtures.everyEvent
        let first = EventEnvelope(event: events[0], time: Date(timeIntervalSince1970: 1))
        let later = EventEnvelope(
            event: events[0], source: "/elsewhere", time: Date(timeIntervalSince1970: 2_000_000_000), traceparent: Self.trace)
        #expect(first.id == later.id)
        #expect(first.id == "tienda-cl/ord-1001/checkout.created/1")
        #expect(
            EventID.make(storefront: try StorefrontID("shop"), order: try OrderID("ord-1001"), type: .paymentSucceeded, attempt: 2)
                == "shop/ord-1001/payment.succeeded/2")
        #expect(
            EventID.make(storefront: nil, order: try OrderID("ord-1001"), type: .paymentSucceeded, attempt: 2)
                == "ord-1001/payment.succeeded/2",
            "a version 1 order names no storefront")
        #expect(Set(events.map(\.id)).count == events.count, "different facts have different ids")
        #expect(
            EventID.make(storefront: try StorefrontID("a"), order: try OrderID("1001"), type: .checkoutCreated, attempt: 1)
                != EventID.make(storefront: try StorefrontID("b"), order: try OrderID("1001"), type: .checkoutCreated, attempt: 1),
            "two storefronts' order 1001 are two facts")

        let parsed = try #require(EventID.parse("tienda.mx/ord_2002.mx/payment.action_required/12"))
        #expect(parsed.storefront?.rawValue == "tienda.mx")
        #expect(parsed.order.rawValue == "ord_2002.mx")
        #expect(parsed.type == .paymentActionRequired)
        #expect(parsed.attempt == 12)
        let legacy = try #require(EventID.parse("ord_2002.mx/payment.action_required/12"))
        #expect(legacy.storefront == nil && legacy.order.rawValue == "ord_2002.mx")
        for bad in [
            "", "a/b", "a/payment.succeeded/0", "a/payment.succeeded/01", "a/unknown.type/1", "a b/checkout.created/1",
            "a/checkout.created/1/x", "s/a/checkout.created/1/x", "-s/a/checkout.created/1", "/a/checkout.created/1",
        ] {
            #expect(EventID.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("AMQP properties mirror the envelope")
    func messageProperties() {
        let envelope = EventEnvelope(
            event: Fixtures.everyEvent[3], time: Date(timeIntervalSince1970: 1_795_000_000.9), traceparent: Self.trace)
        let properties = envelope.messageProperties
        #expect(properties.routingKey == "payment.failed")
        #expect(properties.messageID == envelope.id)
        #expect(properties.type == "payment.failed")
        #expect(properties.contentType == "application/cloudevents+json")
        #expect(properties.deliveryMode == 2)
        #expect(properties.timestamp == 1_795_000_000)
        #expect(properties.appID == "/cobro/payments-gateway")
        #expect(properties.headers == ["traceparent": Self.trace])
        #expect(EventEnvelope(event: Fixtures.everyEvent[3]).messageProperties.headers.isEmpty)
    }

    @Test("unknown extension attributes and unknown data fields are ignored")
    func tolerant() throws {
        var json = try jsonObject(EventEnvelope(event: Fixtures.everyEvent[0], time: Fixtures.created))
        json["partitionkey"] = "ord-1001"
        var data = json["data"] as! [String: Any]
        data["added_in_a_later_version"] = true
        json["data"] = data
        let decoded = try EventEnvelope.decode(JSONSerialization.data(withJSONObject: json))
        #expect(decoded.event == Fixtures.everyEvent[0])
    }

    @Test("timestamps are read with or without fractional seconds and with offsets")
    func timestamps() throws {
        #expect(Timestamp.parse("2024-06-04T15:32:46.721Z") == Date(timeIntervalSince1970: 1_717_515_166.721))
        #expect(Timestamp.parse("2024-06-04T15:32:46Z") == Date(timeIntervalSince1970: 1_717_515_166))
        #expect(Timestamp.parse("2024-06-04T11:32:46-04:00") == Date(timeIntervalSince1970: 1_717_515_166))
        #expect(Timestamp.parse("yesterday") == nil)
        var json = try jsonObject(EventEnvelope(event: Fixtures.everyEvent[0], time: Fixtures.created))
        json["time"] = "2026-11-21T15:32:46Z"
        let decoded = try EventEnvelope.decode(JSONSerialization.data(withJSONObject: json))
        #expect(decoded.time == Date(timeIntervalSince1970: 1_795_275_166))
    }

    /// Each case: the attribute, its new value as a JSON literal, the error text expected.
    @Test(
        "every way a body can be wrong is a typed error with the reason",
        arguments: [
            ("specversion", #""0.3""#, "unsupported CloudEvents specversion \"0.3\"; expected 1.0"),
            ("type", #""payment.refunded""#, "unknown event type \"payment.refunded\""),
            (
                "dataschema", #""https://cobro.dev/schemas/events/checkout.created.v3.json""#,
                "unsupported dataschema \"https://cobro.dev/schemas/events/checkout.created.v3.json\" for checkout.created; expected one of https://cobro.dev/schemas/events/checkout.created.v1.json, https://cobro.dev/schemas/events/checkout.created.v2.json"
            ),
            ("datacontenttype", #""application/xml""#, "unsupported datacontenttype \"application/xml\"; expected application/json"),
            ("subject", #""ord-9""#, "malformed event: subject \"ord-9\" is not the order id \"ord-1001\""),
            ("traceparent", #""00-xyz""#, "malformed event: traceparent \"00-xyz\" is not a W3C trace context"),
            ("id", "42", "malformed event: id: Expected to decode String but found number instead."),
            ("time", #""soon""#, "malformed event: time: \"soon\" is not an RFC 3339 timestamp"),
        ])
    func decodingErrors(attribute: String, valueJSON: String, expected: String) throws {
        var json = try jsonObject(EventEnvelope(event: Fixtures.everyEvent[0], time: Fixtures.created))
        json[attribute] = try JSONSerialization.jsonObject(with: Data(valueJSON.utf8), options: .fragmentsAllowed)
        let body = try JSONSerialization.data(withJSONObject: json)
        do {
            _ = try EventEnvelope.decode(body)
            Issue.record("accepted \(attribute) = \(valueJSON)")
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test("version 2 requires the storefront; version 1, written before order ids were scoped, is read without one")
    func storefrontByVersion() throws {
        var json = try jsonObject(EventEnvelope(event: Fixtures.everyEvent[2], time: Fixtures.created))
        var payload = json["data"] as! [String: Any]
        var order = payload["order"] as! [String: Any]
        order.removeValue(forKey: "storefront")
        payload["order"] = order
        json["data"] = payload
        #expect(
            throws: EnvelopeError.invalidData(
                ValidationError(path: "data.order.storefront", code: "required", reason: "is required from data version 2 on"))
        ) {
            try EventEnvelope.decode(JSONSerialization.data(withJSONObject: json))
        }
        json["dataschema"] = "https://cobro.dev/schemas/events/payment.succeeded.v1.json"
        json["id"] = "ord-1001/payment.succeeded/1"
        let legacy = try EventEnvelope.decode(JSONSerialization.data(withJSONObject: json))
        #expect(legacy.dataVersion == 1)
        #expect(legacy.event.payload.order.storefront == nil)
        #expect(legacy.event.id == "ord-1001/payment.succeeded/1", "a version 1 fact keeps its version 1 id")
        let reencoded = try jsonObject(legacy)
        #expect(
            reencoded["dataschema"] as? String == "https://cobro.dev/schemas/events/payment.succeeded.v1.json",
            "re-encoding keeps the version read")
    }

    @Test("missing attributes, broken JSON and invalid data are refused")
    func structuralErrors() throws {
        var json = try jsonObject(EventEnvelope(event: Fixtures.everyEvent[0], time: Fixtures.created))
        json.removeValue(forKey: "source")
        #expect(throws: EnvelopeError.malformed("missing source")) {
            try EventEnvelope.decode(JSONSerialization.data(withJSONObject: json))
        }
        #expect(throws: EnvelopeError.self) { try EventEnvelope.decode(Data("{not json".utf8)) }

        var data = try jsonObject(EventEnvelope(event: Fixtures.everyEvent[2], time: Fixtures.created))
        var payload = data["data"] as! [String: Any]
        var payment = payload["payment"] as! [String: Any]
        payment["status"] = "failed"
        payload["payment"] = payment
        data["data"] = payload
        #expect(
            throws: EnvelopeError.invalidData(
                ValidationError(
                    path: "data.payment.status", code: "invalid_value", reason: "must be succeeded for payment.succeeded"
                ))
        ) { try EventEnvelope.decode(JSONSerialization.data(withJSONObject: data)) }

        var created = try jsonObject(EventEnvelope(event: Fixtures.everyEvent[0], time: Fixtures.created))
        payload = created["data"] as! [String: Any]
        var order = payload["order"] as! [String: Any]
        order["amount"] = 1
        payload["order"] = order
        var checkout = payload["checkout"] as! [String: Any]
        checkout.removeValue(forKey: "expires_at")
        payload["checkout"] = checkout
        created["data"] = payload
        do {
            _ = try EventEnvelope.decode(JSONSerialization.data(withJSONObject: created))
            Issue.record("accepted invalid data")
        } catch let EnvelopeError.invalidData(error) {
            #expect(error.issues.map(\.path) == ["data.order.amount", "data.checkout.expires_at"])
        }
    }

    private func jsonObject(_ envelope: EventEnvelope) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: envelope.encoded()) as? [String: Any])
    }
}

extension DomainEvent: CustomTestStringConvertible {
    public var testDescription: String { id }
}
