import CobroTestSupport
import Fintoc
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

@testable import Gateway

@Suite("Storefront API without Fintoc")
struct StorefrontAPITests {
    @Test("health and readiness answer with the database and the broker up", .needsBroker, .tags(.broker), arguments: StoreEngine.available)
    func health(_ engine: StoreEngine) async throws {
        let configuration = try await GatewayFixture.configuration(engine: engine)
        let app = try await buildApplication(configuration: configuration)
        try await app.test(.live) { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            // Ready once the relay holds its broker connection, which it makes in the background.
            // /readyz is on the admin listener only.
            var ready = try await AdminListener.get("/readyz", port: configuration.adminPort)
            let deadline = ContinuousClock.now + .seconds(15)
            while ready.status != 200, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                ready = try await AdminListener.get("/readyz", port: configuration.adminPort)
            }
            #expect(ready.status == 200)
            #expect(ready.body == #"{"broker":"ok","database":"ok","status":"ready"}"#)
            #expect(ready.headers.first(name: "X-Request-Id")?.hasPrefix("req_") == true)
        }
    }

    @Test(
        "authentication failures",
        arguments: [
            (nil, "missing_api_key"),
            ("Basic dXNlcjpwYXNz", "invalid_authorization"),
            ("Bearer", "invalid_authorization"),
            ("Bearer cbk_not_a_real_key_at_all", "invalid_api_key"),
            ("bearer \(GatewayFixture.storefrontKey)x", "invalid_api_key"),
        ] as [(String?, String)])
    func authentication(header: String?, code: String) async throws {
        let app = try await buildApplication(configuration: GatewayFixture.configuration())
        try await app.test(.live) { client in
            var headers = GatewayFixture.headers(key: nil)
            if let header { headers[.authorization] = header }
            let response = try await client.execute(
                uri: "/v1/checkouts", method: .post, headers: headers, body: GatewayFixture.json(GatewayFixture.checkoutBody()))
            #expect(response.status == .unauthorized)
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
            let error = try ErrorBody(response.body)
            #expect(error.error.type == "authentication_error")
            #expect(error.error.code == code)
            #expect(!String(buffer: response.body).contains(GatewayFixture.storefrontKey))
        }
    }

    @Test("a revoked key stops working; the other storefront's key still works", arguments: StoreEngine.available)
    func revocation(_ engine: StoreEngine) async throws {
        let configuration = try await GatewayFixture.configuration(engine: engine)
        let app = try await buildApplication(configuration: configuration)
        let keys = StorefrontKeys(store: try await configuration.openStore(), refreshInterval: .zero)
        let made = try await keys.create(name: "cli-shop")
        #expect(made.secret.hasPrefix("cbk_"))
        #expect(try await keys.authenticate(made.secret)?.name == "cli-shop")
        #expect(try await keys.list().contains { $0.id == made.id && $0.prefix == String(made.secret.prefix(10)) && $0.revokedAt == nil })
        #expect(try await keys.revoke(id: made.id))
        #expect(try await !keys.revoke(id: made.id))
        #expect(try await keys.authenticate(made.secret) == nil)
        #expect(try await keys.authenticate(GatewayFixture.otherStorefrontKey)?.name == "other-shop")
        // An environment key revoked by an operator stays revoked across restarts.
        let environmentKey = try #require(try await keys.list().first { $0.name == "shop" })
        #expect(try await keys.revoke(id: environmentKey.id))
        try await keys.syncConfigured(configuration.storefrontKeys)
        #expect(try await keys.authenticate(GatewayFixture.storefrontKey) == nil)
        try await app.test(.live) { client in
            let response = try await client.execute(uri: "/v1/orders/none", method: .get, headers: GatewayFixture.headers(key: made.secret))
            #expect(response.status == .unauthorized)
        }
    }

    @Test(
        "POST without an Idempotency-Key is refused before anything else",
        arguments: [nil, "", String(repeating: "k", count: 256), "has space"] as [String?])
    func idempotencyKeyRequired(key: String?) async throws {
        let app = try await buildApplication(configuration: GatewayFixture.configuration())
        try await app.test(.live) { client in
            var headers = GatewayFixture.headers(idempotencyKey: nil)
            if let key { headers[.init("Idempotency-Key")!] = key }
            let response = try await client.execute(
                uri: "/v1/checkouts", method: .post, headers: headers, body: GatewayFixture.json(GatewayFixture.checkoutBody()))
            #expect(response.status == .badRequest)
            let error = try ErrorBody(response.body)
            #expect(error.error.code == (key == nil || key == "" ? "idempotency_key_required" : "idempotency_key_invalid"))
            #expect(error.error.param == "Idempotency-Key")
        }
    }

    /// Each case: a change to a valid body, the first param and code expected.
    static let invalidBodies: [(String, @Sendable (inout [String: Any]) -> Void, String, String)] = [
        ("missing order id", { $0.removeValue(forKey: "order_id") }, "order_id", "required"),
        ("bad order id", { $0["order_id"] = "ord 1" }, "order_id", "invalid_format"),
        ("unsupported currency", { $0["currency"] = "USD" }, "currency", "invalid_currency"),
        ("amount not an integer", { $0["amount"] = "350000" }, "amount", "invalid_type"),
        (
            "amount zero",
            {
                $0["amount"] = 0
                $0["line_items"] = [["sku": "A", "name": "A", "quantity": 1, "unit_amount": 0]]
            }, "amount", "must_be_positive"
        ),
        ("lines do not add up", { $0["amount"] = 350_001 }, "amount", "amount_mismatch"),
        ("no lines", { $0["line_items"] = [] as [Any] }, "line_items", "required"),
        (
            "zero quantity", { $0["line_items"] = [["sku": "A", "name": "A", "quantity": 0, "unit_amount": 350_000]] },
            "line_items[0].quantity", "must_be_positive"
        ),
        (
            "negative price", { $0["line_items"] = [["sku": "A", "name": "A", "quantity": 1, "unit_amount": -1]] },
            "line_items[0].unit_amount", "must_not_be_negative"
        ),
        (
            "line missing sku", { $0["line_items"] = [["name": "A", "quantity": 1, "unit_amount": 350_000]] }, "line_items[0].sku",
            "invalid_type"
        ),
        ("bad email", { $0["customer"] = ["email": "not-an-email"] }, "customer.email", "invalid_format"),
        (
            "bad RUT", { $0["customer"] = ["email": "a@b.cl", "tax_id": ["type": "cl_rut", "value": "11.111.111-2"]] },
            "customer.tax_id.value", "invalid_tax_id"
        ),
        (
            "unknown tax id type", { $0["customer"] = ["email": "a@b.cl", "tax_id": ["type": "us_ssn", "value": "1"]] },
            "customer.tax_id.type", "invalid_type"
        ),
        ("relative success url", { $0["success_url"] = "/success" }, "success_url", "invalid_url"),
        ("ftp cancel url", { $0["cancel_url"] = "ftp://shop.example/x" }, "cancel_url", "invalid_url"),
        ("unknown ui", { $0["ui"] = "popup" }, "ui", "invalid_value"),
        ("unknown language", { $0["language"] = "pt" }, "language", "invalid_value"),
        ("long metadata value", { $0["metadata"] = ["k": String(repeating: "v", count: 501)] }, "metadata.k", "too_long"),
        (
            "not an object",
            {
                $0 = ["x": ["y"]]
                $0.removeValue(forKey: "x")
            }, "order_id", "required"
        ),
        // Checkout options: each only where Fintoc takes it, each checked as Fintoc would.
        (
            "payment methods for the widget",
            {
                $0["ui"] = "widget"
                $0["payment_method_types"] = ["card"]
            }, "payment_method_types", "not_allowed"
        ),
        ("no payment methods", { $0["payment_method_types"] = [] as [Any] }, "payment_method_types", "invalid_type"),
        ("unknown payment method", { $0["payment_method_types"] = ["cash"] }, "payment_method_types[0]", "invalid_value"),
        ("a payment method twice", { $0["payment_method_types"] = ["card", "card"] }, "payment_method_types[1]", "duplicate"),
        (
            "a Mexican bank for CLP", { $0["payment_method_options"] = GatewayFixture.preselectedBank("mx_bbva") },
            "payment_method_options.bank_transfer.sender_account.institution_id.value", "invalid_institution"
        ),
        (
            "not an institution id", { $0["payment_method_options"] = GatewayFixture.preselectedBank("Banco Estado") },
            "payment_method_options.bank_transfer.sender_account.institution_id.value", "invalid_institution"
        ),
        (
            "an unknown option",
            { $0["payment_method_options"] = ["bank_transfer": ["sender_account": [:] as [String: Any]], "cash": [:] as [String: Any]] },
            "payment_method_options.cash", "unknown_field"
        ),
        (
            "a bank without bank transfer",
            {
                $0["payment_method_types"] = ["card"]
                $0["payment_method_options"] = GatewayFixture.preselectedBank("cl_banco_estado")
            },
            "payment_method_options.bank_transfer", "conflict"
        ),
        (
            "business profile for a payment intent",
            {
                $0["ui"] = "payment_intent"
                $0["business_profile"] = ["name": "Tienda Sur"]
            }, "business_profile", "not_allowed"
        ),
        ("blank business name", { $0["business_profile"] = ["name": "  "] }, "business_profile.name", "required"),
        (
            "recipient account for a redirect", { $0["recipient_account"] = GatewayFixture.chileanAccount() }, "recipient_account",
            "not_allowed"
        ),
        (
            "recipient without a number",
            {
                $0["ui"] = "payment_intent"
                var account = GatewayFixture.chileanAccount()
                account.removeValue(forKey: "number")
                $0["recipient_account"] = account
            },
            "recipient_account.number", "required"
        ),
        (
            "recipient RUT with a wrong check digit",
            {
                $0["ui"] = "payment_intent"
                $0["recipient_account"] = GatewayFixture.chileanAccount(holder: "11.111.111-2")
            },
            "recipient_account.holder_id", "invalid_tax_id"
        ),
        (
            "a CLABE for CLP",
            {
                $0["ui"] = "payment_intent"
                var account = GatewayFixture.mexicanAccount()
                account["institution_id"] = "cl_banco_de_chile"
                $0["recipient_account"] = account
            },
            "recipient_account.type", "invalid_type"
        ),
        (
            "a CLABE with a wrong check digit",
            {
                $0["ui"] = "payment_intent"
                $0["currency"] = "MXN"
                $0["customer"] = ["email": "ana@example.mx"]
                $0["recipient_account"] = GatewayFixture.mexicanAccount(clabe: "012180001183597190")
            },
            "recipient_account.number", "invalid_account_number"
        ),
    ]

    @Test("every validation error names the field", arguments: 0..<invalidBodies.count)
    func validation(index: Int) async throws {
        let (name, change, param, code) = Self.invalidBodies[index]
        var fields = GatewayFixture.checkoutBody()
        change(&fields)
        let body = GatewayFixture.json(fields)
        let app = try await buildApplication(configuration: GatewayFixture.configuration())
        try await app.test(.live) { client in
            let response = try await client.execute(uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(), body: body)
            #expect(response.status == .badRequest, "\(name)")
            let error = try ErrorBody(response.body)
            #expect(error.error.type == "invalid_request_error", "\(name)")
            #expect(error.error.param == param, "\(name): \(error.error)")
            #expect(error.error.code == code, "\(name): \(error.error)")
        }
    }

    @Test("several problems are all listed in details")
    func severalProblems() async throws {
        var fields = GatewayFixture.checkoutBody()
        fields["currency"] = "EUR"
        fields["success_url"] = "nope"
        fields.removeValue(forKey: "ui")
        let body = GatewayFixture.json(fields)
        let app = try await buildApplication(configuration: GatewayFixture.configuration())
        try await app.test(.live) { client in
            let response = try await client.execute(uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(), body: body)
            let error = try ErrorBody(response.body)
            #expect(Set(error.error.details?.map(\.param) ?? []) == ["currency", "ui", "success_url"])
        }
    }

    @Test("malformed JSON, a body too large, an unknown route and a wrong method all answer the envelope")
    func envelopes() async throws {
        var configuration = GatewayFixture.configuration()
        configuration.maxBodyBytes = 2048
        let app = try await buildApplication(configuration: configuration)
        try await app.test(.live) { client in
            let malformed = try await client.execute(
                uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(), body: ByteBuffer(string: "{not json"))
            #expect(malformed.status == .badRequest)
            #expect(try ErrorBody(malformed.body).error.code == "invalid_json")

            let large = try await client.execute(
                uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(),
                body: ByteBuffer(string: String(repeating: " ", count: 4096)))
            #expect(large.status == .contentTooLarge)
            #expect(try ErrorBody(large.body).error.code == "body_too_large")

            let unknown = try await client.execute(uri: "/v1/nothing-here", method: .get, headers: GatewayFixture.headers())
            #expect(unknown.status == .notFound)
            #expect(try ErrorBody(unknown.body).error.code == "route_not_found")

            let missing = try await client.execute(uri: "/v1/checkouts/chk_none", method: .get, headers: GatewayFixture.headers())
            #expect(missing.status == .notFound)
            #expect(try ErrorBody(missing.body).error.code == "resource_missing")
        }
    }

    @Test("Fintoc unreachable: 502 with a retryable code, nothing recorded, the key free for the retry", arguments: StoreEngine.available)
    func fintocDown(_ engine: StoreEngine) async throws {
        let configuration = try await GatewayFixture.configuration(engine: engine)
        let app = try await buildApplication(configuration: configuration)
        let body = GatewayFixture.json(GatewayFixture.checkoutBody(orderID: "ord-down-1"))
        try await app.test(.live) { client in
            let headers = GatewayFixture.headers(idempotencyKey: "same-key-1")
            for _ in 0..<2 {
                let response = try await client.execute(uri: "/v1/checkouts", method: .post, headers: headers, body: body)
                #expect(response.status == .badGateway)
                let error = try ErrorBody(response.body)
                #expect(error.error.type == "provider_error")
                #expect(error.error.code == "provider_unavailable")
            }
        }
        let database = try await configuration.openStore()
        for table in [#""order""#, "checkout", "outbox", "idempotency_key"] {
            #expect(try await database.integer("SELECT COUNT(*) FROM \(table)") == 0, "\(table)")
        }
    }
}

@Suite("Gateway metrics")
struct GatewayMetricsTests {
    @Test("requests are counted by route pattern, never by concrete path")
    func requestMetrics() async throws {
        let configuration = GatewayFixture.configuration()
        let app = try await buildApplication(configuration: configuration)
        try await app.test(.live) { client in
            _ = try await client.execute(uri: "/v1/checkouts/chk_secret_looking_id", method: .get, headers: GatewayFixture.headers())
            _ = try await client.execute(
                uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(),
                body: GatewayFixture.json(GatewayFixture.checkoutBody()))
            let metrics = try await AdminListener.get("/metrics", port: configuration.adminPort)
            #expect(metrics.status == 200)
            let text = metrics.body
            #expect(text.contains(#"gateway_http_requests_total{route="/v1/checkouts/{id}",method="GET",status="404"} 1"#))
            #expect(text.contains(#"gateway_fintoc_errors_total{operation="create_redirect",code="provider_unavailable"} 1"#))
            #expect(text.contains("gateway_http_request_duration_seconds_bucket"))
            #expect(!text.contains("chk_secret_looking_id"))
            #expect(!text.contains(GatewayFixture.storefrontKey))
        }
    }
}

@Suite("Idempotency records")
struct IdempotencyRecordTests {
    static func claim(_ begin: IdempotencyStore.Begin) -> String? {
        if case .proceed(let claim) = begin { claim } else { nil }
    }

    @Test("answers are replayed for 24 hours, then forgotten and purged; keys are per storefront key", arguments: StoreEngine.available)
    func expiry(_ engine: StoreEngine) async throws {
        let store = IdempotencyStore(store: try await GatewayStore.openForTest(GatewayFixture.location(engine)))
        let hash = IdempotencyStore.hash(Data("request".utf8))
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        let claim = try #require(Self.claim(try await store.begin(storefront: "key_1", key: "k", requestHash: hash, now: start)))
        #expect(try await store.begin(storefront: "key_1", key: "k", requestHash: hash, now: start.addingTimeInterval(1)) == .inProgress)
        #expect(
            Self.claim(try await store.begin(storefront: "key_2", key: "k", requestHash: hash, now: start)) != nil,
            "scoped per storefront key")
        try await store.store.storeAnswer(
            status: 201, body: Data("{}".utf8), for: IdempotencyClaim(storefront: "key_1", key: "k", claim: claim))
        #expect(
            try await store.begin(storefront: "key_1", key: "k", requestHash: hash, now: start.addingTimeInterval(3600))
                == .replay(status: 201, body: Data("{}".utf8)))
        #expect(try await store.purgeExpired(now: start.addingTimeInterval(3600)) == 0)
        #expect(try await store.purgeExpired(now: start.addingTimeInterval(86_401)) == 2)
        #expect(
            Self.claim(
                try await store.begin(
                    storefront: "key_1", key: "k", requestHash: IdempotencyStore.hash(Data("other".utf8)),
                    now: start.addingTimeInterval(90_000))) != nil)
    }

    @Test(
        "an abandoned key is taken over only by the same request, and the old holder can neither answer nor free it",
        arguments: StoreEngine.available)
    func takeover(_ engine: StoreEngine) async throws {
        var configured = IdempotencyStore(store: try await GatewayStore.openForTest(GatewayFixture.location(engine)))
        configured.abandonedAfter = 120
        let store = configured
        let hash = IdempotencyStore.hash(Data("A".utf8))
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        let first = try #require(Self.claim(try await store.begin(storefront: "s", key: "k", requestHash: hash, now: start)))
        #expect(
            try await store.begin(
                storefront: "s", key: "k", requestHash: IdempotencyStore.hash(Data("B".utf8)), now: start.addingTimeInterval(121))
                == .reusedWithOtherRequest,
            "another request never takes over a live key")
        let second = try #require(
            Self.claim(try await store.begin(storefront: "s", key: "k", requestHash: hash, now: start.addingTimeInterval(121))))
        #expect(second != first)
        await #expect(throws: IdempotencyStore.ClaimLost.self) {
            try await store.store.storeAnswer(
                status: 201, body: Data("old".utf8), for: IdempotencyClaim(storefront: "s", key: "k", claim: first))
        }
        await store.release(storefront: "s", key: "k", claim: first)
        #expect(
            try await store.begin(storefront: "s", key: "k", requestHash: hash, now: start.addingTimeInterval(122)) == .inProgress,
            "the new holder keeps it")
        try await store.store.storeAnswer(
            status: 201, body: Data("new".utf8), for: IdempotencyClaim(storefront: "s", key: "k", claim: second))
        #expect(
            try await store.begin(storefront: "s", key: "k", requestHash: hash, now: start.addingTimeInterval(123))
                == .replay(status: 201, body: Data("new".utf8)))
    }

    @Test("a request is judged abandoned only after the longest a live one can take")
    func abandonmentFollowsTheClient() {
        let fintoc = FintocClientConfiguration(
            secretKey: "sk_test_x", requestTimeout: .seconds(15), retry: RetryPolicy(maxAttempts: 5, maxDelay: .seconds(16)))
        #expect(IdempotencyStore.abandonedAfter(for: fintoc) == 5 * 15 + 4 * 16 + 60)
    }
}

@Suite("Gateway database")
struct GatewayDatabaseTests {
    @Test("the writer syncs every commit (synchronous = FULL) in WAL mode")
    func durableCommits() async throws {
        let database = try await GatewayFixture.configuration().openStore()
        let (mode, synchronous) = try await database.sqlitePool.write { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode")!, try Int.fetchOne(db, sql: "PRAGMA synchronous")!)
        }
        #expect(mode == "wal")
        #expect(synchronous == 2, "2 is FULL; GRDB's default for WAL is 1 (NORMAL)")
    }
}

@Suite("Modes and key display")
struct ModeAndKeyDisplayTests {
    @Test("an object's mode follows the secret key; the other mode is refused")
    func mode() throws {
        #expect(try CheckoutService.mode(reportedBy: nil, secretKey: "sk_live_abc") == "live")
        #expect(try CheckoutService.mode(reportedBy: nil, secretKey: "sk_test_abc") == "test")
        #expect(try CheckoutService.mode(reportedBy: .test, secretKey: "sk_test_abc") == "test")
        #expect(throws: APIError.self) { try CheckoutService.mode(reportedBy: .live, secretKey: "sk_test_abc") }
        #expect(throws: APIError.self) { try CheckoutService.mode(reportedBy: .test, secretKey: "sk_live_abc") }
    }

    @Test("api-keys list shows 10 characters of a key made here, 4 of a configured one")
    func prefixes() {
        #expect(StorefrontKeys.displayPrefix("cbk_" + String(repeating: "a", count: 40)) == "cbk_aaaaaa")
        #expect(StorefrontKeys.displayPrefix("shop-secret-key-123456") == "shop")
        #expect(StorefrontKeys.displayPrefix(GatewayFixture.storefrontKey) == "cbk_")
    }
}
