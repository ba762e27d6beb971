import CobroTestSupport
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import PaymentsCore
import Testing

@testable import FintocSandbox
@testable import Gateway

extension Stack {
    /// Subscribes the gateway's webhook route to every sandbox event, signed with `secret`.
    func subscribeSandbox(secret: String = FintocEvents.secret) async {
        await sandbox.subscribe(url: "http://127.0.0.1:\(gateway.port!)/webhooks/fintoc", secret: secret)
    }

    func postWebhook(_ body: Data, headers: HTTPFields) async throws -> TestResponse {
        try await gateway.execute(uri: "/webhooks/fintoc", method: .post, headers: headers, body: ByteBuffer(data: body))
    }

    /// A checkout made through the API; returns its id and Fintoc object id.
    func checkout(ui: String, orderID: String = "ord-\(UUID().uuidString.prefix(8))") async throws -> (
        id: String, providerID: String, orderID: String
    ) {
        let response = try await createCheckout(GatewayFixture.checkoutBody(orderID: orderID, ui: ui))
        #expect(response.status == .created)
        let json = try response.json()
        return (json["id"] as! String, json["provider_id"] as! String, orderID)
    }

    func metric(_ line: String) async throws -> Double? {
        let text = try await AdminListener.metrics(configuration)
        return text.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }
}

@Suite("Webhook ingestion over HTTP", .needsBroker, .tags(.broker))
struct WebhookIngestTests {
    @Test(
        "signatures: missing, tampered byte, stale, future, unknown secret are refused with 401, a reason and a metric",
        arguments: StoreEngine.available)
    func refusedSignatures(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            let body = FintocEvents.event(
                type: "payment_intent.succeeded", data: FintocEvents.intent("pi_none", status: "succeeded", checkout: nil))
            let now = Int64(Date().timeIntervalSince1970)
            var tampered = body
            tampered[tampered.count / 2] ^= 0x01
            let cases: [(String, Data, HTTPFields)] = [
                ("missing_header", body, [.contentType: "application/json"]),
                ("no_match", tampered, FintocEvents.headers(body)),
                ("stale", body, FintocEvents.headers(body, timestamp: now - 400)),
                ("future", body, FintocEvents.headers(body, timestamp: now + 400)),
                ("no_match", body, FintocEvents.headers(body, secrets: ["whsec_someone_else"])),
                ("malformed", body, [.contentType: "application/json", .init("Fintoc-Signature")!: "v1=abc"]),
            ]
            for (reason, payload, headers) in cases {
                let response = try await stack.postWebhook(payload, headers: headers)
                #expect(response.status == .unauthorized, "\(reason)")
                let error = try ErrorBody(response.body).error
                #expect(error.code == "invalid_signature")
                #expect(error.type == "authentication_error")
            }
            #expect(try await stack.metric(#"gateway_webhook_rejections_total{reason="no_match"}"#) == 2)
            #expect(try await stack.metric(#"gateway_webhook_rejections_total{reason="stale"}"#) == 1)
            #expect(try await stack.metric(#"gateway_webhook_rejections_total{reason="future"}"#) == 1)
            #expect(try await stack.metric(#"gateway_webhook_rejections_total{reason="missing_header"}"#) == 1)
            let stored = try await stack.configuration.openStore().integer("SELECT COUNT(*) FROM inbox")
            #expect(stored == 0, "nothing refused is stored")

            // Inside the tolerance (with room for a slow machine between signing and checking).
            let edge = try await stack.postWebhook(
                body, headers: FintocEvents.headers(body, timestamp: Int64(Date().timeIntervalSince1970) - 290))
            #expect(edge.status == .ok, "\(String(buffer: edge.body))")
        }
    }

    @Test(
        "rotation: both configured secrets verify, and a header with the new and an unknown value passes", arguments: StoreEngine.available)
    func rotation(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine, adjust: { $0.webhookSecrets = ["whsec_old_secret_1", "whsec_new_secret_2"] }) { stack in
            for secrets in [["whsec_old_secret_1"], ["whsec_new_secret_2"], ["whsec_unknown_3", "whsec_new_secret_2"]] {
                let body = FintocEvents.event(
                    type: "refund.succeeded", data: ["id": "re_\(UUID().uuidString.prefix(6))", "object": "refund"])
                let response = try await stack.postWebhook(body, headers: FintocEvents.headers(body, secrets: secrets))
                #expect(response.status == .ok, "\(secrets)")
            }
            let body = FintocEvents.event(type: "refund.succeeded", data: ["id": "re_x"])
            let sandboxDefault = try await stack.postWebhook(body, headers: FintocEvents.headers(body))
            #expect(sandboxDefault.status == .unauthorized, "a secret no longer configured is refused")
        }
    }

    @Test(
        "a body past the limit is 413; a signed body that is no Fintoc event is 400; unknown types and foreign objects are stored, 200 and counted",
        arguments: StoreEngine.available)
    func limitsAndUnknowns(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine, adjust: { $0.maxWebhookBytes = 2048 }) { stack in
            let big = FintocEvents.event(type: "refund.succeeded", data: ["id": "re_big", "note": String(repeating: "x", count: 4096)])
            let tooLarge = try await stack.postWebhook(big, headers: FintocEvents.headers(big))
            #expect(tooLarge.status == .contentTooLarge)

            let notEvent = Data(#"{"hello":"world"}"#.utf8)
            #expect(try await stack.postWebhook(notEvent, headers: FintocEvents.headers(notEvent)).status == .badRequest)

            let unknown = FintocEvents.event(type: "checkout_session.completed", data: ["id": "cs_old_guide"])
            let unknownAnswer = try await stack.postWebhook(unknown, headers: FintocEvents.headers(unknown))
            #expect(unknownAnswer.status == .ok)
            #expect(try unknownAnswer.json()["outcome"] as? String == "ignored")
            let foreign = FintocEvents.event(
                type: "payment_intent.succeeded", data: FintocEvents.intent("pi_not_ours", status: "succeeded", checkout: nil))
            let foreignAnswer = try await stack.postWebhook(foreign, headers: FintocEvents.headers(foreign))
            #expect(try foreignAnswer.json()["outcome"] as? String == "unmatched")
            #expect(try await stack.metric(#"gateway_webhooks_total{outcome="ignored",source="webhook"}"#) == 1)
            #expect(try await stack.metric(#"gateway_webhooks_total{outcome="unmatched",source="webhook"}"#) == 1)
            #expect(try await stack.metric(#"gateway_webhook_rejections_total{reason="too_large"}"#) == 1)
            let kept = try await stack.configuration.openStore().strings("SELECT outcome FROM inbox ORDER BY outcome")
            #expect(kept == ["ignored", "unmatched"])
        }
    }

    @Test(
        "each event delivered three times gives one domain event, carrying the order's lines, amounts and customer",
        arguments: StoreEngine.available)
    func threeDeliveriesOneEvent(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            let made = try await stack.checkout(ui: "payment_intent")
            let pending = FintocEvents.event(
                type: "payment_intent.pending", data: FintocEvents.intent(made.providerID, status: "pending", checkout: made.id))
            let succeeded = FintocEvents.event(
                type: "payment_intent.succeeded", data: FintocEvents.intent(made.providerID, status: "succeeded", checkout: made.id))
            var outcomes: [String] = []
            for body in [pending, succeeded, pending, succeeded, succeeded, pending] {
                let response = try await stack.postWebhook(body, headers: FintocEvents.headers(body))
                #expect(response.status == .ok)
                outcomes.append(try response.json()["outcome"] as? String ?? "")
            }
            #expect(outcomes == ["applied", "applied", "duplicate", "duplicate", "duplicate", "duplicate"])
            let events = try await stack.nextEvents(3)
            #expect(events.map(\.type) == [.checkoutCreated, .paymentPending, .paymentSucceeded])
            #expect(try await stack.events.take(1, timeout: .seconds(1)).isEmpty, "nothing more")
            guard case .paymentSucceeded(let paid) = events[2].event else {
                Issue.record("not a payment.succeeded")
                return
            }
            #expect(events[2].id == "shop/\(made.orderID)/payment.succeeded/1")
            #expect(paid.order.amount == 350_000)
            #expect(paid.order.lineItems.map(\.sku) == ["TSHIRT-M", "MUG-01"])
            #expect(paid.order.customer.email == "felipe@example.cl")
            #expect(paid.payment.id == made.providerID)
            #expect(paid.checkout.id.rawValue == made.id)
            #expect(
                events[2].traceparent?.split(separator: "-")[1] == events[0].traceparent?.split(separator: "-")[1],
                "the order's events share the checkout's trace")
        }
    }

    @Test(
        "signed by the sandbox, duplicated and shuffled: each ui's payment is one payment.succeeded, and the order shows paid",
        arguments: StoreEngine.available, ["redirect", "widget", "payment_intent"])
    func sandboxSignedPayments(_ engine: StoreEngine, ui: String) async throws {
        try await Stack.run(engine: engine) { stack in
            await stack.subscribeSandbox()
            var faults = Faults()
            faults.duplicate = 3
            faults.shuffle = true
            await stack.sandbox.setFaults(faults)
            let made = try await stack.checkout(ui: ui)
            _ = try await stack.sandbox.complete(id: made.providerID, outcome: .succeeded, errorReason: nil)
            let events = try await stack.nextEvents(2)
            #expect(events.map(\.type) == [.checkoutCreated, .paymentSucceeded])
            #expect(
                try await stack.events.take(1, timeout: .seconds(2)).isEmpty,
                "one payment.succeeded for three deliveries of each Fintoc event")
            let deliveries = await stack.sandbox.allDeliveries()
            #expect(!deliveries.isEmpty)
            #expect(deliveries.allSatisfy { $0.statusCode == 200 && $0.succeeded }, "every delivery answered 200")
            let order = try await stack.gateway.execute(uri: "/v1/orders/\(made.orderID)", method: .get, headers: GatewayFixture.headers())
            #expect(try order.json()["status"] as? String == "paid")
        }
    }

    @Test(
        "a signed payment_intent.requires_action: its next_action is published in payment.action_required; without one the field is absent",
        arguments: StoreEngine.available)
    func nextActionIsPublished(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            let told = try await stack.checkout(ui: "payment_intent")
            let silent = try await stack.checkout(ui: "payment_intent")
            for (made, nextAction) in [(told, TestValues.requiresActionNextAction), (silent, nil)] {
                let body = FintocEvents.event(
                    type: "payment_intent.requires_action",
                    data: FintocEvents.intent(
                        made.providerID, status: "requires_action", checkout: made.id, nextAction: nextAction))
                let response = try await stack.postWebhook(body, headers: FintocEvents.headers(body))
                #expect(try response.json()["outcome"] as? String == "applied")
            }
            // The bytes on the exchange, as any consumer reads them.
            let published = try await stack.events.take(4).compactMap { try JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
            let payments = Dictionary(
                published.filter { $0["type"] as? String == "payment.action_required" }.compactMap { event in
                    ((event["subject"] as? String) ?? "", ((event["data"] as? [String: Any])?["payment"] as? [String: Any]) ?? [:])
                }, uniquingKeysWith: { first, _ in first })
            #expect(payments.count == 2)
            #expect(payments[told.orderID]?["next_action"] as? [String: String] == TestValues.requiresActionNextAction)
            #expect(payments[silent.orderID].map { $0.keys.sorted() } == ["id", "status"], "no next_action member at all")
        }
    }

    @Test(
        "the sandbox's requires_action, signed and delivered: payment.action_required carries its next_action, for each ui",
        arguments: StoreEngine.available, ["redirect", "payment_intent"])
    func sandboxNextAction(_ engine: StoreEngine, ui: String) async throws {
        try await Stack.run(engine: engine) { stack in
            await stack.subscribeSandbox()
            let made = try await stack.checkout(ui: ui)
            _ = try await stack.sandbox.complete(id: made.providerID, outcome: .requiresAction, errorReason: nil)
            let events = try await stack.nextEvents(2)
            guard case .paymentActionRequired(let data) = events.last?.event else {
                Issue.record("expected payment.action_required, got \(events.map(\.type))")
                return
            }
            let expected = TestValues.requiresActionNextAction
            #expect(data.payment.nextAction == NextAction(type: expected["type"]!, message: expected["message"]))
            #expect(try await stack.events.take(1, timeout: .seconds(1)).isEmpty, "one event for the payment and the session's finish")
        }
    }

    @Test("a failed attempt then a paid one on the hosted page: payment.failed then payment.succeeded", arguments: StoreEngine.available)
    func failedThenPaid(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            await stack.subscribeSandbox()
            let made = try await stack.checkout(ui: "redirect")
            _ = try await stack.sandbox.complete(id: made.providerID, outcome: .failed, errorReason: "insufficient_funds")
            _ = try await stack.sandbox.complete(id: made.providerID, outcome: .succeeded, errorReason: nil)
            let events = try await stack.nextEvents(3)
            #expect(events.map(\.type) == [.checkoutCreated, .paymentFailed, .paymentSucceeded])
            if case .paymentFailed(let failed) = events[1].event {
                #expect(failed.payment.reason == "insufficient_funds")
            }
        }
    }
}
