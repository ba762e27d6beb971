import AsyncHTTPClient
import CobroTestSupport
import Foundation
import Gateway
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PaymentsCore
import Testing

/// A gateway configuration on a fresh SQLite file (or, with `engine:`, either engine), with two
/// storefront keys.
enum GatewayFixture {
    static let storefrontKey = "cbk_test_storefront_key_0001"
    static let otherStorefrontKey = "cbk_test_other_store_key_0002"

    static func configuration(fintocURL: String = "http://127.0.0.1:9", file: String = #fileID, line: Int = #line) -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        configuration.port = 0
        // Known in advance, so tests can reach /metrics and /readyz (AdminListener).
        configuration.adminPort = (try? TestPorts.reserve()) ?? 0
        configuration.database = .sqlite(
            path: FileManager.default.temporaryDirectory
                .appendingPathComponent("cobro-gateway-tests-\(UUID().uuidString)/gateway.sqlite").path)
        // Every suite runs at once against one test server: small pools.
        configuration.databaseMaxConnections = 4
        configuration.storefrontKeys = [("shop", storefrontKey), ("other-shop", otherStorefrontKey)]
        configuration.amqpURL = BrokerFixture.url
        configuration.fintoc.baseURL = fintocURL
        configuration.fintoc.retry = .init(maxAttempts: 2, initialDelay: .milliseconds(10), maxDelay: .milliseconds(20))
        configuration.fintoc.connectTimeout = .seconds(1)
        return configuration
    }

    static func checkoutBody(
        orderID: String = "ord-\(UUID().uuidString.prefix(8))", ui: String = "redirect", amount: Int = 350_000, currency: String = "CLP"
    ) -> [String: Any] {
        [
            "order_id": orderID, "currency": currency, "amount": amount, "ui": ui,
            "line_items": [
                ["sku": "TSHIRT-M", "name": "Polera", "quantity": 2, "unit_amount": 100_000],
                ["sku": "MUG-01", "name": "Tazón", "quantity": 1, "unit_amount": amount - 200_000],
            ],
            "customer": ["email": "felipe@example.cl", "name": "Felipe Castro", "tax_id": ["type": "cl_rut", "value": "11.111.111-1"]],
            "success_url": "https://shop.example/success", "cancel_url": "https://shop.example/cancel",
            "metadata": ["cart": "c-1"],
        ]
    }

    /// `payment_method_options` choosing `institution` in advance, in Fintoc's shape.
    static func preselectedBank(_ institution: String) -> [String: Any] {
        ["bank_transfer": ["sender_account": ["institution_id": ["value": institution]]]]
    }

    static func chileanAccount(holder: String = "18.391.713-7") -> [String: Any] {
        ["holder_id": holder, "number": "123456", "type": "checking_account", "institution_id": "cl_banco_de_chile"]
    }

    /// A Mexican account; the default CLABE's check digit is right (weights 3, 7, 1).
    static func mexicanAccount(clabe: String = "012180001183597198") -> [String: Any] {
        ["holder_id": "XAXX010101000", "number": clabe, "type": "clabe", "institution_id": "mx_bbva"]
    }

    static func headers(key: String? = storefrontKey, idempotencyKey: String? = UUID().uuidString) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.authorization] = "Bearer \(key)" }
        if let idempotencyKey { headers[.init("Idempotency-Key")!] = idempotencyKey }
        return headers
    }

    static func json(_ object: Any) -> ByteBuffer {
        ByteBuffer(data: try! JSONSerialization.data(withJSONObject: object))
    }
}

/// GETs on the gateway's admin listener (`/metrics`, `/readyz`, `/healthz`), which the
/// HummingbirdTesting client (public port only) cannot reach.
enum AdminListener {
    struct Answer {
        let status: Int
        let body: String
        let headers: HTTPHeaders
    }

    static func get(_ path: String, port: Int, method: HTTPMethod = .GET) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 4 << 20)
        return Answer(status: Int(response.status.code), body: String(buffer: body), headers: response.headers)
    }

    /// `/metrics` of the gateway `configuration` describes.
    static func metrics(_ configuration: GatewayConfiguration) async throws -> String {
        try await get("/metrics", port: configuration.adminPort).body
    }
}

/// The `error` object of an envelope answer.
struct ErrorBody: Decodable {
    struct Detail: Decodable {
        let param: String
        let code: String
        let message: String
    }

    struct Inner: Decodable {
        let type: String
        let code: String
        let message: String
        let param: String?
        let details: [Detail]?
    }

    let error: Inner

    init(_ buffer: ByteBuffer) throws {
        self = try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: buffer))
    }
}
