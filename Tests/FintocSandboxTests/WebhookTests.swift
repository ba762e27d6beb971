import CobroTestSupport
import Fintoc
import FintocSandbox
import Foundation
import HummingbirdTesting
import Testing

/// Signed delivery to real receivers on loopback, retries, the delivery log and every fault.
@Suite struct WebhookTests {
    @Test func deliversSignedEventsInOrderToSubscribedEndpoints() async throws {
        let receiver = WebhookReceiver()
        let other = WebhookReceiver()
        try await receiver.run { url in
            try await other.run { otherURL in
                try await withSandbox { client, store in
                    let endpoint = try await client.createEndpoint(url: url)
                    _ = try await client.createEndpoint(url: otherURL, events: ["checkout_session.expired"])
                    let id = try await client.createSessionV2()["id"]!.string!
                    #expect(try await client.complete(id, "succeeded").status == .ok)
                    try await eventually("two deliveries") { receiver.received.count == 2 }

                    let verifier = WebhookVerifier(secrets: [endpoint.secret])
                    for item in receiver.received {
                        #expect(item.contentType == "application/json")
                        #expect(throws: Never.self) { try verifier.verify(body: item.body, header: item.signature) }
                    }
                    #expect(receiver.events.map(\.type) == [.paymentIntentSucceeded, .checkoutSessionFinished])
                    #expect(receiver.events.map(\.id) == (await store.allEvents()).map(\.id))
                    #expect(other.received.isEmpty, "not subscribed to these types")

                    let log = try await client.api(.get, "/sandbox/deliveries").json().array!
                    #expect(log.count == 2)
                    #expect(
                        log.allSatisfy {
                            $0["status_code"]?.int == 200 && $0["attempt"]?.int == 1 && $0["endpoint_id"]?.string == endpoint.id
                        })
                    #expect(log.allSatisfy { $0["next_retry_at"] == nil })
                }
            }
        }
    }

    @Test func retriesUntilTheReceiverComesUp() async throws {
        // Held (refusing connections) while the receiver is down, so no other test's server takes it.
        let reserved = try RefusingPort()
        let port = reserved.port
        let receiver = WebhookReceiver()
        try await withSandbox(testConfiguration(retrySchedule: [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2], webhookTimeout: 0.5)) {
            client, store in
            let endpoint = try await client.createEndpoint(url: "http://127.0.0.1:\(port)/webhooks/fintoc")
            let id = try await client.createIntent()["id"]!.string!
            #expect(try await client.complete(id, "succeeded").status == .ok)
            try await eventually("two failed attempts while the receiver is down") {
                await store.allDeliveries().filter { !$0.succeeded }.count >= 2
            }
            reserved.release()
            try await receiver.run(port: port) { _ in
                try await eventually("the retry to land") { receiver.received.count == 1 }
            }
            // The sandbox logs a delivery once it has read the answer, a moment after the
            // receiver got the request.
            try await eventually("the delivery to be logged") { await store.allDeliveries().contains { $0.succeeded } }
            let log = await store.allDeliveries()
            #expect(log.first?.statusCode == nil)
            #expect(log.first?.error != nil)
            #expect(log.first?.nextRetryAt != nil)
            #expect(log.last?.succeeded == true)
            #expect(log.last?.attempt ?? 0 >= 3)
            #expect(
                try WebhookVerifier(secrets: [endpoint.secret]).verify(
                    body: receiver.received[0].body, header: receiver.received[0].signature) != Date.distantPast)
        }
    }

    @Test func aNon2xxAnswerIsRetriedAndAcceptedLater() async throws {
        let receiver = WebhookReceiver { count in count <= 2 ? .internalServerError : .ok }
        try await receiver.run { url in
            try await withSandbox { client, store in
                _ = try await client.createEndpoint(url: url)
                let id = try await client.createIntent()["id"]!.string!
                _ = try await client.complete(id, "failed")
                try await eventually("three attempts") { await store.allDeliveries().count == 3 }
                let log = await store.allDeliveries()
                #expect(log.map(\.statusCode) == [500, 500, 200])
                #expect(log.map(\.attempt) == [1, 2, 3])
                #expect(Set(receiver.events.map(\.id)).count == 1, "the same event id each time")
            }
        }
    }

    @Test func duplicateFaultDeliversEachEventNTimes() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withSandbox { client, _ in
                _ = try await client.createEndpoint(url: url)
                try await client.setFaults(#"{"duplicate": 3}"#)
                _ = try await client.complete(try await client.createIntent()["id"]!.string!, "succeeded")
                try await eventually("three copies") { receiver.received.count == 3 }
                #expect(Set(receiver.events.map(\.id)).count == 1)
                let copies = try await client.api(.get, "/sandbox/deliveries").json().array!.compactMap { $0["copy"]?.int }
                #expect(copies.sorted() == [1, 2, 3])
            }
        }
    }

    @Test func shuffleFaultReordersAnObjectsEvents() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withSandbox { client, store in
                _ = try await client.createEndpoint(url: url)
                try await client.setFaults(#"{"shuffle": true}"#)
                _ = try await client.complete(try await client.createSessionV2()["id"]!.string!, "succeeded")
                try await eventually("both events") { receiver.received.count == 2 }
                #expect(await store.allEvents().map(\.type) == [.paymentIntentSucceeded, .checkoutSessionFinished])
                #expect(receiver.events.map(\.type) == [.checkoutSessionFinished, .paymentIntentSucceeded])
            }
        }
    }

    @Test func delayFaultHoldsEachAttempt() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withSandbox { client, store in
                _ = try await client.createEndpoint(url: url)
                try await client.setFaults(#"{"delay_ms": 400}"#)
                let start = Date()
                _ = try await client.complete(try await client.createIntent()["id"]!.string!, "succeeded")
                try await eventually("the delayed delivery") { receiver.received.count == 1 }
                #expect(Date().timeIntervalSince(start) >= 0.4)
                _ = store
            }
        }
    }

    @Test func failFirstFaultFailsTheFirstAttemptsWithoutSending() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withSandbox { client, store in
                _ = try await client.createEndpoint(url: url)
                try await client.setFaults(#"{"fail_first": 2}"#)
                _ = try await client.complete(try await client.createIntent()["id"]!.string!, "succeeded")
                try await eventually("the third attempt") { receiver.received.count == 1 }
                // The attempt is logged once its answer is in, just after the receiver saw it.
                try await eventually("the third attempt logged") { await store.allDeliveries().count == 3 }
                let log = await store.allDeliveries()
                #expect(log.map(\.attempt) == [1, 2, 3])
                #expect(log.prefix(2).allSatisfy { $0.statusCode == nil && $0.error?.contains("fail_first") == true })
                #expect(log.last?.statusCode == 200)
            }
        }
    }

    @Test func staleSignatureAndWrongSecretFaultsAreRefusedByTheVerifier() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            try await withSandbox { client, _ in
                let endpoint = try await client.createEndpoint(url: url)
                let verifier = WebhookVerifier(secrets: [endpoint.secret])

                try await client.setFaults(#"{"stale_signature": true}"#)
                _ = try await client.complete(try await client.createIntent()["id"]!.string!, "succeeded")
                try await eventually("the stale delivery") { receiver.received.count == 1 }
                let stale = receiver.received[0]
                // Signed 600 s in the past; verified a moment later, so a second may have passed.
                do {
                    try verifier.verify(body: stale.body, header: stale.signature)
                    Issue.record("a stale signature was accepted")
                } catch {
                    guard case .stale(let seconds)? = error as? WebhookSignatureError else {
                        Issue.record("expected stale, got \(error)")
                        return
                    }
                    #expect((600...605).contains(seconds))
                }

                try await client.setFaults(#"{"wrong_secret": true}"#)
                _ = try await client.complete(try await client.createIntent()["id"]!.string!, "succeeded")
                try await eventually("the wrongly signed delivery") { receiver.received.count == 2 }
                let wrong = receiver.received[1]
                #expect(throws: WebhookSignatureError.noMatch) { try verifier.verify(body: wrong.body, header: wrong.signature) }

                let reset = try await client.api(.delete, "/sandbox/faults")
                #expect(try reset.json()["wrong_secret"] == false)
                _ = try await client.complete(try await client.createIntent()["id"]!.string!, "succeeded")
                try await eventually("a good delivery") { receiver.received.count == 3 }
                #expect(throws: Never.self) { try verifier.verify(body: receiver.received[2].body, header: receiver.received[2].signature) }
            }
        }
    }

    @Test func faultsAreShownAndValidated() async throws {
        try await withSandbox { client, _ in
            try await client.setFaults(#"{"duplicate": 2, "delay_ms": 10}"#)
            let shown = try await client.api(.get, "/sandbox/faults").json()
            #expect(shown["duplicate"]?.int == 2)
            #expect(shown["delay_ms"]?.int == 10)
            #expect(shown["shuffle"] == false)
            let bad = try await client.api(.put, "/sandbox/faults", json: #"{"duplicate": 0}"#)
            #expect(bad.status == .badRequest)
            #expect(try bad.error()?["param"]?.string == "duplicate")
            let unparsable = try await client.api(.put, "/sandbox/faults", json: #"{"duplicate": "x"}"#)
            #expect(try unparsable.error()?["code"]?.string == "invalid_json")
        }
    }

    @Test func endpointTestDeliversOnlyToThatEndpointAndDisabledEndpointsGetNothing() async throws {
        let receiver = WebhookReceiver()
        let disabled = WebhookReceiver()
        try await receiver.run { url in
            try await disabled.run { disabledURL in
                try await withSandbox { client, _ in
                    let endpoint = try await client.createEndpoint(url: url, events: ["payment_intent.succeeded"])
                    let off = try await client.createEndpoint(url: disabledURL)
                    let patched = try await client.api(.patch, "/v1/webhook_endpoints/\(off.id)", json: #"{"disabled": true}"#)
                    #expect(try patched.json()["status"]?.string == "disabled")

                    let test = try await client.api(.post, "/v1/webhook_endpoints/\(endpoint.id)/test")
                    #expect(test.status == .ok)
                    #expect(try test.json()["type"]?.string == "webhook_endpoint.test")
                    try await eventually("the test event") { receiver.received.count == 1 }
                    #expect(receiver.events.first?.type.rawValue == "webhook_endpoint.test")

                    _ = try await client.complete(try await client.createIntent()["id"]!.string!, "succeeded")
                    try await eventually("the payment event") { receiver.received.count == 2 }
                    #expect(disabled.received.isEmpty)

                    let deleted = try await client.api(.delete, "/v1/webhook_endpoints/\(off.id)")
                    #expect(try deleted.json()["deleted"] == true)
                    let list = try await client.api(.get, "/v1/webhook_endpoints").json().array!
                    #expect(list.map { $0["id"]!.string! } == [endpoint.id])
                }
            }
        }
    }

    @Test func theBootstrapEndpointGetsEveryEvent() async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { url in
            let configuration = testConfiguration(bootstrap: .init(url: url, secret: "whsec_bootstrap"))
            try await withSandbox(configuration) { client, _ in
                let listed = try await client.api(.get, "/v1/webhook_endpoints").json().array!
                #expect(listed.first?["enabled_events"] == ["*"])
                let session = try await client.createSessionV2()["id"]!.string!
                _ = try await client.complete(session, "expired")
                try await eventually("the expiry event") { receiver.received.count == 1 }
                #expect(receiver.events.first?.type == .checkoutSessionExpired)
                #expect(throws: Never.self) {
                    try WebhookVerifier(secrets: ["whsec_bootstrap"]).verify(
                        body: receiver.received[0].body, header: receiver.received[0].signature)
                }
            }
        }
    }
}
