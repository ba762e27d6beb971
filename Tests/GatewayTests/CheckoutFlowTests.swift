import AsyncHTTPClient
import CobroTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PaymentsCore
import Testing

@testable import FintocSandbox
@testable import Gateway

/// The storefront API through a real gateway, a real sandbox and a real broker.
@Suite("Checkouts end to end (gateway, sandbox, broker)", .needsBroker, .tags(.broker))
struct CheckoutFlowTests {
    static func sandboxFaults(_ stack: Stack, _ json: String) async throws {
        let response = try await stack.sandboxClient.execute(
            uri: "/sandbox/faults", method: .put, headers: [.authorization: "sk_test_sandbox", .contentType: "application/json"],
            body: ByteBuffer(string: json))
        #expect(response.status == .ok)
    }

    /// Fintoc objects of a kind the sandbox holds, straight from its API.
    static func sandboxCount(_ stack: Stack, _ path: String) async throws -> Int {
        let response = try await stack.sandboxClient.execute(
            uri: path + "?per_page=100", method: .get, headers: [.authorization: "sk_test_sandbox"])
        return (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [Any])?.count ?? -1
    }

    @Test(
        "each ui style: 201 with its Fintoc object, and checkout.created on the exchange",
        arguments: StoreEngine.available, ["redirect", "widget", "payment_intent"])
    func eachStyle(_ engine: StoreEngine, ui: String) async throws {
        try await Stack.run(engine: engine) { stack in
            let response = try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "ord-\(ui)", ui: ui))
            #expect(response.status == .created)
            let checkout = try response.json()
            let id = try #require(checkout["id"] as? String)
            let providerID = try #require(checkout["provider_id"] as? String)
            #expect(checkout["status"] as? String == "created" && checkout["attempt"] as? Int == 1 && checkout["mode"] as? String == "test")
            switch ui {
            case "redirect":
                #expect(providerID.hasPrefix("cs_") && (checkout["redirect_url"] as? String)?.hasSuffix(providerID) == true)
                #expect(checkout["public_key"] == nil)
            case "widget":
                #expect(providerID.hasPrefix("cs_") && (checkout["session_token"] as? String)?.hasPrefix(providerID + "_sec_") == true)
                #expect(checkout["public_key"] as? String == "pk_test_sandbox")
            default:
                #expect(providerID.hasPrefix("pi_") && (checkout["widget_token"] as? String)?.hasPrefix(providerID + "_sec_") == true)
                #expect(checkout["payment_intent_id"] as? String == providerID)
            }

            let event = try #require(try await stack.nextEvents(1).first)
            #expect(event.id == "shop/ord-\(ui)/checkout.created/1")
            guard case .checkoutCreated(let data) = event.event else {
                Issue.record("not checkout.created")
                return
            }
            #expect(data.checkout.id.rawValue == id && data.checkout.providerID == providerID && data.checkout.ui.rawValue == ui)
            #expect(data.order.amount == 350_000 && data.order.lineItems.count == 2 && data.order.customer.email == "felipe@example.cl")
            #expect(data.checkout.expiresAt != nil && event.traceparent != nil)

            let read = try await stack.gateway.execute(uri: "/v1/checkouts/\(id)", method: .get, headers: GatewayFixture.headers())
            #expect(try read.status == .ok && (read.json()["provider_id"] as? String) == providerID)
            // The order's history shows the event, published once the broker confirmed it.
            var order = try await stack.gateway.execute(uri: "/v1/orders/ord-\(ui)", method: .get, headers: GatewayFixture.headers())
            let deadline = ContinuousClock.now + .seconds(5)
            while ((try order.json()["events"] as? [[String: Any]])?.first?["published_at"]) == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                order = try await stack.gateway.execute(uri: "/v1/orders/ord-\(ui)", method: .get, headers: GatewayFixture.headers())
            }
            let history = try #require(try order.json()["events"] as? [[String: Any]])
            #expect(history.count == 1 && history[0]["id"] as? String == event.id && history[0]["published_at"] != nil)
        }
    }

    @Test(
        "the same key and body replays the answer; another body with it is refused; one session, one event",
        arguments: StoreEngine.available)
    func replayAndReuse(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            let body = GatewayFixture.checkoutBody(orderID: "ord-replay")
            let first = try await stack.createCheckout(body, key: "key-replay")
            let second = try await stack.createCheckout(body, key: "key-replay")
            #expect(first.status == .created && second.status == .created)
            #expect(Data(buffer: first.body) == Data(buffer: second.body))
            #expect(second.headers[.init("Idempotent-Replayed")!] == "true" && first.headers[.init("Idempotent-Replayed")!] == nil)

            var other = body
            other["metadata"] = ["cart": "c-2"]
            let reused = try await stack.createCheckout(other, key: "key-replay")
            #expect(reused.status == .conflict)
            #expect(try ErrorBody(reused.body).error.code == "idempotency_key_reused")
            // The key is per storefront key: the other storefront may use the same key for its own order.
            let elsewhere = try await stack.createCheckout(
                GatewayFixture.checkoutBody(orderID: "ord-other-shop"), key: "key-replay", storefrontKey: GatewayFixture.otherStorefrontKey)
            #expect(elsewhere.status == .created)

            #expect(try await Self.sandboxCount(stack, "/v2/checkout_sessions") == 2)
            let events = try await stack.nextEvents(3, timeout: .seconds(3))
            #expect(events.map(\.id).sorted() == ["other-shop/ord-other-shop/checkout.created/1", "shop/ord-replay/checkout.created/1"])
        }
    }

    @Test("a request with the same key still in flight is refused with 409; the first one completes", arguments: StoreEngine.available)
    func inFlight(_ engine: StoreEngine) async throws {
        // Three 503s and their waits keep the first request in flight for about 1.7 s. The second
        // one is sent once Fintoc has refused the first attempt, so it meets the first in flight
        // however late the machine starts the first (a fixed sleep did not, under load).
        try await Stack.run(
            engine: engine,
            adjust: {
                $0.fintoc.retry = .init(maxAttempts: 4, initialDelay: .milliseconds(500), maxDelay: .milliseconds(600))
            }
        ) { stack in
            try await Self.sandboxFaults(stack, #"{"api_errors": [{"status": 503, "count": 3, "path_prefix": "/v2/checkout_sessions"}]}"#)
            async let first = stack.createCheckout(GatewayFixture.checkoutBody(orderID: "ord-inflight"), key: "key-inflight")
            let deadline = ContinuousClock.now + .seconds(10)
            while await (stack.sandbox.faults.apiErrors.first?.count ?? 0) == 3, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(await stack.sandbox.faults.apiErrors.first?.count == 2, "the first request reached Fintoc once")
            // A second connection: the test client's own connection would queue behind the first.
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(stack.gateway.port!)/v1/checkouts")
            request.method = .POST
            for field in GatewayFixture.headers(idempotencyKey: "key-inflight") {
                request.headers.add(name: field.name.rawName, value: field.value)
            }
            request.body = .bytes(GatewayFixture.json(GatewayFixture.checkoutBody(orderID: "ord-inflight")))
            let second = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(second.status == .conflict)
            #expect(try ErrorBody(try await second.body.collect(upTo: 1 << 16)).error.code == "idempotency_key_in_progress")
            #expect(try await first.status == .created)
        }
    }

    @Test("Fintoc answers 503 twice, then succeeds: one checkout, one session, one event", arguments: StoreEngine.available)
    func fintocRecovers(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            try await Self.sandboxFaults(stack, #"{"api_errors": [{"status": 503, "count": 1, "path_prefix": "/v1/payment_intents"}]}"#)
            let response = try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "ord-503", ui: "payment_intent"))
            #expect(response.status == .created)
            #expect(try await Self.sandboxCount(stack, "/v1/payment_intents") == 1)
            #expect(try await stack.nextEvents(2, timeout: .seconds(3)).map(\.id) == ["shop/ord-503/checkout.created/1"])
        }
    }

    @Test(
        "Fintoc keeps failing: 502 with Fintoc's code, nothing recorded, and the same key works once Fintoc is back",
        arguments: StoreEngine.available)
    func fintocDownThenBack(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            try await Self.sandboxFaults(stack, #"{"api_errors": [{"status": 503, "count": 10}]}"#)
            let body = GatewayFixture.checkoutBody(orderID: "ord-down")
            let failed = try await stack.createCheckout(body, key: "key-down")
            #expect(failed.status == .badGateway)
            let error = try ErrorBody(failed.body).error
            #expect(error.type == "provider_error" && error.code == "service_unavailable")
            let missing = try await stack.gateway.execute(uri: "/v1/orders/ord-down", method: .get, headers: GatewayFixture.headers())
            #expect(missing.status == .notFound)

            try await Self.sandboxFaults(stack, "{}")
            let retried = try await stack.createCheckout(body, key: "key-down")
            #expect(retried.status == .created)
            #expect(try await stack.nextEvents(2, timeout: .seconds(3)).map(\.id) == ["shop/ord-down/checkout.created/1"])
        }
    }

    @Test("a new attempt for the same order is attempt 2; a different order under the same id is refused", arguments: StoreEngine.available)
    func attempts(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            #expect(try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "ord-att")).status == .created)
            let second = try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "ord-att", ui: "widget"))
            #expect(try second.status == .created && (second.json()["attempt"] as? Int) == 2)

            let changed = try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "ord-att", amount: 400_000))
            #expect(try changed.status == .conflict && (ErrorBody(changed.body).error.code) == "order_mismatch")

            let events = try await stack.nextEvents(3, timeout: .seconds(3))
            #expect(events.map(\.id) == ["shop/ord-att/checkout.created/1", "shop/ord-att/checkout.created/2"])
        }
    }

    @Test(
        "two storefronts use the same order id, each unaware of the other: own orders, own attempts, own events",
        arguments: StoreEngine.available)
    func storefrontsShareOrderIDs(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            let mine = try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "1001"))
            #expect(try mine.status == .created && (mine.json()["attempt"] as? Int) == 1)
            // The other storefront's 1001 is another order: other lines, other amount, its own
            // first attempt, and nothing in the answer about the first storefront's.
            let theirs = try await stack.createCheckout(
                GatewayFixture.checkoutBody(orderID: "1001", amount: 400_000), storefrontKey: GatewayFixture.otherStorefrontKey)
            #expect(try theirs.status == .created && (theirs.json()["attempt"] as? Int) == 1)
            #expect(try (theirs.json()["order_id"] as? String) == "1001")
            #expect(!String(buffer: theirs.body).contains(try #require(try mine.json()["id"] as? String)))

            // Each sees its own order, and its own checkouts only.
            let myOrder = try await stack.gateway.execute(uri: "/v1/orders/1001", method: .get, headers: GatewayFixture.headers())
            let theirOrder = try await stack.gateway.execute(
                uri: "/v1/orders/1001", method: .get, headers: GatewayFixture.headers(key: GatewayFixture.otherStorefrontKey))
            #expect(try (myOrder.json()["amount"] as? Int) == 350_000 && (theirOrder.json()["amount"] as? Int) == 400_000)
            #expect(try (myOrder.json()["checkouts"] as? [Any])?.count == 1 && (theirOrder.json()["checkouts"] as? [Any])?.count == 1)
            // A checkout of one storefront does not exist for the other, for reads and for expiry.
            let theirCheckout = try #require(try theirs.json()["id"] as? String)
            #expect(
                try await stack.gateway.execute(uri: "/v1/checkouts/\(theirCheckout)", method: .get, headers: GatewayFixture.headers())
                    .status == .notFound)
            let expire = try await stack.gateway.execute(
                uri: "/v1/checkouts/\(theirCheckout)/expire", method: .post, headers: GatewayFixture.headers())
            #expect(expire.status == .notFound)

            // A second attempt of each stays within its storefront.
            let myRetry = try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "1001", ui: "widget"))
            #expect(try (myRetry.json()["attempt"] as? Int) == 2)

            let events = try await stack.nextEvents(3, timeout: .seconds(3))
            #expect(
                Set(events.map(\.id)) == [
                    "shop/1001/checkout.created/1", "other-shop/1001/checkout.created/1", "shop/1001/checkout.created/2",
                ])
            #expect(Set(events.map(\.subject)) == ["1001"])
            let byID = Dictionary(uniqueKeysWithValues: events.map { ($0.id, $0) })
            #expect(byID["other-shop/1001/checkout.created/1"]?.event.payload.order.storefront?.rawValue == "other-shop")
            #expect(byID["other-shop/1001/checkout.created/1"]?.event.payload.order.amount == 400_000)
            #expect(byID["shop/1001/checkout.created/2"]?.event.payload.order.storefront?.rawValue == "shop")
        }
    }

    @Test("expire: the Fintoc object expires, checkout.expired is published, a second expire is refused", arguments: StoreEngine.available)
    func expire(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            let created = try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "ord-exp"))
            let id = try #require(try created.json()["id"] as? String)
            let expired = try await stack.gateway.execute(
                uri: "/v1/checkouts/\(id)/expire", method: .post, headers: GatewayFixture.headers())
            #expect(try expired.status == .ok && (expired.json()["status"] as? String) == "expired")
            let again = try await stack.gateway.execute(uri: "/v1/checkouts/\(id)/expire", method: .post, headers: GatewayFixture.headers())
            #expect(try again.status == .conflict && (ErrorBody(again.body).error.code) == "checkout_not_open")
            let unknown = try await stack.gateway.execute(
                uri: "/v1/checkouts/chk_nope/expire", method: .post, headers: GatewayFixture.headers())
            #expect(unknown.status == .notFound)

            let events = try await stack.nextEvents(2)
            #expect(events.map(\.id) == ["shop/ord-exp/checkout.created/1", "shop/ord-exp/checkout.expired/1"])
            let session = try await stack.sandboxClient.execute(
                uri: "/v2/checkout_sessions/\(try created.json()["provider_id"] as! String)", method: .get,
                headers: [.authorization: "sk_test_sandbox"])
            #expect((try session.json()["status"] as? String) == "expired")
        }
    }

    @Test("a paid order refuses a new checkout with 409, and the refusal is replayed for its key", arguments: StoreEngine.available)
    func paidOrder(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            #expect(try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "ord-paid")).status == .created)
            // Webhooks mark orders paid (the next issue); here the store is set as they will set it.
            try await stack.configuration.openStore().execute(#"UPDATE "order" SET status = 'paid' WHERE id = 'ord-paid'"#)
            let refused = try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "ord-paid"), key: "key-paid")
            #expect(refused.status == .conflict)
            #expect(try ErrorBody(refused.body).error.code == "order_already_paid")
            let again = try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "ord-paid"), key: "key-paid")
            #expect(again.status == .conflict && again.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(try await Self.sandboxCount(stack, "/v2/checkout_sessions") == 1, "no Fintoc session for the refused attempt")
        }
    }

    @Test("two keys race to start one new order with different contents: one 201, one 409, and the order is the winner's")
    func racingNewOrder() async throws {
        try await Stack.run(adjust: {
            $0.fintoc.retry = .init(maxAttempts: 3, initialDelay: .milliseconds(100), maxDelay: .milliseconds(150))
        }) { stack in
            // Each first call to Fintoc fails, so both requests pass the early check before either records the order.
            try await Self.sandboxFaults(stack, #"{"api_errors": [{"status": 503, "count": 2, "path_prefix": "/v2/checkout_sessions"}]}"#)
            let port = try #require(stack.gateway.port)
            let answers = try await withThrowingTaskGroup(of: (Int, HTTPResponse.Status).self) { group in
                for (index, amount) in [350_000, 400_000].enumerated() {
                    group.addTask {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/checkouts")
                        request.method = .POST
                        for field in GatewayFixture.headers(idempotencyKey: "race-\(index)") {
                            request.headers.add(name: field.name.rawName, value: field.value)
                        }
                        request.body = .bytes(GatewayFixture.json(GatewayFixture.checkoutBody(orderID: "ord-race", amount: amount)))
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                        _ = try await response.body.collect(upTo: 1 << 16)
                        return (amount, HTTPResponse.Status(code: Int(response.status.code)))
                    }
                }
                return try await group.reduce(into: [Int: HTTPResponse.Status]()) { $0[$1.0] = $1.1 }
            }
            #expect(Set(answers.values) == [.created, .conflict])
            let winner = try #require(answers.first { $0.value == .created }?.key)
            let order = try await stack.gateway.execute(uri: "/v1/orders/ord-race", method: .get, headers: GatewayFixture.headers())
            #expect(try order.json()["amount"] as? Int == winner)
            #expect((try order.json()["checkouts"] as? [Any])?.count == 1)
            // The loser's refusal is its key's answer, not a key stuck in flight.
            let loser = answers.first { $0.value == .conflict }!.key
            let replay = try await stack.createCheckout(
                GatewayFixture.checkoutBody(orderID: "ord-race", amount: loser), key: "race-\(loser == 350_000 ? 0 : 1)")
            #expect(try replay.status == .conflict && ErrorBody(replay.body).error.code == "order_mismatch")
        }
    }

    @Test("the same request after both sides forgot its key returns the checkout it made, with no second Fintoc object")
    func repeatAfterKeysForgotten() async throws {
        try await Stack.run { stack in
            let body = GatewayFixture.checkoutBody(orderID: "ord-late")
            let first = try await stack.createCheckout(body, key: "key-late")
            #expect(first.status == .created)
            // A day later: our idempotency row is purged, and Fintoc (the sandbox) forgot its key too.
            try await stack.configuration.openStore().execute("DELETE FROM idempotency_key")
            await stack.sandbox.pruneExpired(now: Date().addingTimeInterval(2 * 86_400))
            let again = try await stack.createCheckout(body, key: "key-late")
            #expect(again.status == .created)
            #expect(try again.json()["id"] as? String == first.json()["id"] as? String)
            #expect(try await Self.sandboxCount(stack, "/v2/checkout_sessions") == 1)
        }
    }

    @Test("a later traceparent version is carried as version 00; a checkout being paid cannot be expired")
    func traceAndExpiry() async throws {
        try await Stack.run { stack in
            var headers = GatewayFixture.headers()
            headers[.init("traceparent")!] = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"
            let created = try await stack.gateway.execute(
                uri: "/v1/checkouts", method: .post, headers: headers,
                body: GatewayFixture.json(GatewayFixture.checkoutBody(orderID: "ord-trace")))
            #expect(created.status == .created)
            let event = try #require(try await stack.nextEvents(1).first)
            #expect(event.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")

            // The customer logs in on the hosted page: the session is in progress at Fintoc.
            let session = try #require(try created.json()["provider_id"] as? String)
            let login = try await stack.sandboxClient.execute(
                uri: "/checkout/\(session)/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "bank=cl_banco_estado&username=41614850-3&password=jonsnow"))
            #expect(login.status == .ok)
            let id = try #require(try created.json()["id"] as? String)
            let refused = try await stack.gateway.execute(
                uri: "/v1/checkouts/\(id)/expire", method: .post, headers: GatewayFixture.headers())
            #expect(refused.status == .conflict)
            #expect(try ErrorBody(refused.body).error.code == "checkout_not_open")
            #expect(try await stack.nextEvents(1, timeout: .seconds(1)).isEmpty, "no checkout.expired")
        }
    }
}
