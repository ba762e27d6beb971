import Fintoc
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import Gateway

/// The storefront API through the router, with `FintocDouble` standing in for Fintoc: no
/// broker, no sandbox, no port. What crosses the Fintoc boundary is asserted on the double;
/// the real-sandbox suites (`CheckoutFlowTests`, `CheckoutOptionsTests`) keep the wire honest.
@Suite("Storefront API through the router, Fintoc as a test double")
struct StorefrontRouterTests {
    /// Runs `test` against a gateway whose checkout path calls `fintoc`.
    static func withGateway(_ test: @escaping @Sendable (any TestClientProtocol, FintocDouble) async throws -> Void) async throws {
        let configuration = GatewayFixture.configuration()
        let fintoc = FintocDouble(configuration: configuration.fintoc)
        let client = FintocClient(configuration: configuration.fintoc, logger: Logger(label: "router-tests"))
        let app = try await buildApplication(
            configuration: configuration, fintoc: client, checkoutAPI: fintoc, logger: Logger(label: "router-tests"))
        try await app.test(.router) { try await test($0, fintoc) }
    }

    static func create(_ client: any TestClientProtocol, _ body: [String: Any], key: String = UUID().uuidString) async throws
        -> TestResponse
    {
        try await client.execute(
            uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(idempotencyKey: key), body: GatewayFixture.json(body))
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    static func creations(_ fintoc: FintocDouble) -> [FintocDouble.Call] {
        fintoc.calls.filter { $0.operation.hasPrefix("create_") }
    }

    @Test(
        "each ui: 201 with the Fintoc object's id and link or token, readable back, with checkout.created in the order's history",
        arguments: [
            ("redirect", "create_checkout_session_v2"), ("widget", "create_checkout_session_v1"),
            ("payment_intent", "create_payment_intent"),
        ])
    func eachUI(ui: String, operation: String) async throws {
        try await Self.withGateway { client, fintoc in
            let created = try await Self.create(client, GatewayFixture.checkoutBody(orderID: "ord-\(ui)", ui: ui))
            #expect(created.status == .created)
            let answer = try Self.json(created)
            #expect(answer["status"] as? String == "created" && answer["ui"] as? String == ui && answer["mode"] as? String == "test")
            #expect(Self.creations(fintoc).map(\.operation) == [operation])
            switch ui {
            case "redirect": #expect((answer["redirect_url"] as? String)?.hasPrefix("https://pay.fintoc.test/checkout/cs_double_") == true)
            case "widget": #expect((answer["session_token"] as? String)?.hasPrefix("cs_token_double_") == true)
            default: #expect((answer["widget_token"] as? String)?.hasPrefix("pi_token_double_") == true)
            }
            let id = try #require(answer["id"] as? String)
            let read = try await client.execute(uri: "/v1/checkouts/\(id)", method: .get, headers: GatewayFixture.headers())
            #expect(read.status == .ok)
            #expect(try Self.json(read)["provider_id"] as? String == answer["provider_id"] as? String)
            let order = try await client.execute(uri: "/v1/orders/ord-\(ui)", method: .get, headers: GatewayFixture.headers())
            #expect(order.status == .ok)
            #expect(String(buffer: order.body).contains("checkout.created"))
        }
    }

    @Test("the same key and body replays the answer without a second Fintoc call; another body with it is refused")
    func replay() async throws {
        try await Self.withGateway { client, fintoc in
            let body = GatewayFixture.checkoutBody(orderID: "ord-replay")
            let first = try await Self.create(client, body, key: "key-replay")
            let second = try await Self.create(client, body, key: "key-replay")
            #expect(first.status == .created && second.status == .created)
            #expect(String(buffer: first.body) == String(buffer: second.body))
            #expect(second.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(Self.creations(fintoc).count == 1)
            let reused = try await Self.create(client, GatewayFixture.checkoutBody(orderID: "ord-other"), key: "key-replay")
            #expect(reused.status == .conflict)
            #expect(try ErrorBody(reused.body).error.code == "idempotency_key_reused")
            #expect(Self.creations(fintoc).count == 1)
        }
    }

    @Test("an invalid body is a 400 naming the field, and Fintoc is never called")
    func invalidBody() async throws {
        try await Self.withGateway { client, fintoc in
            var body = GatewayFixture.checkoutBody(orderID: "ord-bad")
            body["amount"] = 1
            let refused = try await Self.create(client, body)
            #expect(refused.status == .badRequest)
            #expect(try ErrorBody(refused.body).error.type == "invalid_request_error")
            #expect(fintoc.calls.isEmpty)
        }
    }

    @Test("Fintoc unavailable: 502 with Fintoc's code, nothing recorded, and the same key succeeds once Fintoc answers")
    func fintocUnavailable() async throws {
        try await Self.withGateway { client, fintoc in
            fintoc.fail(with: [
                .api(
                    FintocAPIError(
                        status: 503, envelope: .init(type: .apiError, code: "service_unavailable", message: "try later"), requestID: "req_1"
                    ))
            ])
            let body = GatewayFixture.checkoutBody(orderID: "ord-down", ui: "payment_intent")
            let failed = try await Self.create(client, body, key: "key-down")
            #expect(failed.status == .badGateway)
            let error = try ErrorBody(failed.body).error
            #expect(error.type == "provider_error" && error.code == "service_unavailable")
            let missing = try await client.execute(uri: "/v1/orders/ord-down", method: .get, headers: GatewayFixture.headers())
            #expect(missing.status == .notFound)
            let retried = try await Self.create(client, body, key: "key-down")
            #expect(retried.status == .created)
            // Both attempts carried the same Fintoc idempotency key: Fintoc cannot make two objects.
            let keys = Self.creations(fintoc).map(\.idempotencyKey)
            #expect(keys.count == 2 && keys[0] == keys[1])
        }
    }

    @Test("expire: the Fintoc object is expired through the double, the checkout answers expired, a second expire is refused")
    func expire() async throws {
        try await Self.withGateway { client, fintoc in
            let created = try await Self.create(client, GatewayFixture.checkoutBody(orderID: "ord-expire"))
            let id = try #require(try Self.json(created)["id"] as? String)
            let expired = try await client.execute(uri: "/v1/checkouts/\(id)/expire", method: .post, headers: GatewayFixture.headers())
            #expect(expired.status == .ok)
            #expect(try Self.json(expired)["status"] as? String == "expired")
            #expect(fintoc.calls.filter { $0.operation == "expire_checkout_session" }.count == 1)
            let again = try await client.execute(uri: "/v1/checkouts/\(id)/expire", method: .post, headers: GatewayFixture.headers())
            #expect(again.status == .conflict)
            #expect(try ErrorBody(again.body).error.code == "checkout_not_open")
        }
    }
}
