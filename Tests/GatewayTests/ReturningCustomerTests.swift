import CobroTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import Testing

@testable import Gateway

/// Seed 002: a session whose `customer_data` names a tax id Fintoc already has is refused with
/// 409; the Customer's id goes in `customer` instead. Through a real gateway and the real
/// sandbox, which refuses exactly that.
@Suite("Returning customers (gateway, sandbox)", .needsBroker, .tags(.broker))
struct ReturningCustomerTests {
    static let sandboxHeaders: HTTPFields = [.authorization: "sk_test_sandbox", .contentType: "application/json"]

    /// A hosted checkout for `orderID` by a customer with `taxID`, in `currency`.
    static func body(_ orderID: String, taxType: String, taxValue: String, currency: String = "CLP") -> [String: Any] {
        var body = GatewayFixture.checkoutBody(orderID: orderID, currency: currency)
        body["customer"] = ["email": "cliente@example.com", "name": "Cliente Frecuente", "tax_id": ["type": taxType, "value": taxValue]]
        return body
    }

    /// The `customer.id` of the session behind a gateway checkout, read from the sandbox.
    static func sessionCustomer(_ stack: Stack, _ checkout: TestResponse) async throws -> String? {
        let providerID = try #require(try checkout.json()["provider_id"] as? String)
        let session = try await stack.sandboxClient.execute(
            uri: "/v2/checkout_sessions/\(providerID)", method: .get, headers: sandboxHeaders)
        return (try session.json()["customer"] as? [String: Any])?["id"] as? String
    }

    /// Customers the sandbox holds with this tax id.
    static func customers(_ stack: Stack, taxID: String) async throws -> [[String: Any]] {
        let query = taxID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? taxID
        let response = try await stack.sandboxClient.execute(uri: "/v2/customers?tax_id=\(query)", method: .get, headers: sandboxHeaders)
        #expect(response.status == .ok)
        return try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]] ?? []
    }

    @Test("two orders by the same RUT both get a checkout, for one Fintoc customer", arguments: StoreEngine.available)
    func sameRUTTwice(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            let first = try await stack.createCheckout(Self.body("ord-rut-1", taxType: "cl_rut", taxValue: "12.345.678-5"))
            #expect(first.status == .created, "\(String(buffer: first.body))")
            // Spelled another way: the same person.
            let second = try await stack.createCheckout(Self.body("ord-rut-2", taxType: "cl_rut", taxValue: "12345678-5"))
            #expect(second.status == .created, "\(String(buffer: second.body))")
            let customer = try #require(try await Self.sessionCustomer(stack, first))
            #expect(try await Self.sessionCustomer(stack, second) == customer)
            #expect(try await Self.customers(stack, taxID: "123456785").count == 1)
        }
    }

    @Test(
        "a customer made at Fintoc outside Cobro is found and reused",
        arguments: StoreEngine.available,
        [
            ("cl_rut", "CLP", "160000007", "16.000.000-7"),
            ("mx_rfc", "MXN", "gohm800101ab1", "GOHM800101AB1"),
        ])
    func madeElsewhere(_ engine: StoreEngine, _ example: (taxType: String, currency: String, madeAs: String, orderedAs: String))
        async throws
    {
        let (taxType, currency, madeAs, orderedAs) = example
        try await Stack.run(engine: engine) { stack in
            let made = try await stack.sandboxClient.execute(
                uri: "/v2/customers", method: .post, headers: Self.sandboxHeaders,
                body: GatewayFixture.json(["email": "Otra@Example.com", "tax_id": ["type": taxType, "value": madeAs]]))
            #expect(made.status == .created, "\(String(buffer: made.body))")
            let customer = try #require(try made.json()["id"] as? String)

            let checkout = try await stack.createCheckout(
                Self.body("ord-elsewhere-\(taxType)", taxType: taxType, taxValue: orderedAs, currency: currency))
            #expect(checkout.status == .created, "\(String(buffer: checkout.body))")
            #expect(try await Self.sessionCustomer(stack, checkout) == customer)

            // Remembered: the next order names the customer at once.
            let next = try await stack.createCheckout(
                Self.body("ord-elsewhere-\(taxType)-2", taxType: taxType, taxValue: orderedAs, currency: currency))
            #expect(next.status == .created)
            #expect(try await Self.sessionCustomer(stack, next) == customer)
            let remembered = try await stack.rememberedCustomers()
            #expect(remembered == [customer])
        }
    }

    @Test("a remembered customer Fintoc no longer has is forgotten, and the checkout goes through", arguments: StoreEngine.available)
    func forgottenAtFintoc(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            // The gateway remembers a customer the sandbox never had (deleted at Fintoc, say).
            try await stack.configuration.openStore().execute(
                """
                INSERT INTO fintoc_customer (mode, tax_id_type, tax_id, customer_id, updated_at)
                VALUES ('test', 'cl_rut', '123456785', 'cus_gone', '2026-11-01 10:00:00.000')
                """)
            let checkout = try await stack.createCheckout(Self.body("ord-gone", taxType: "cl_rut", taxValue: "12.345.678-5"))
            #expect(checkout.status == .created, "\(String(buffer: checkout.body))")
            let customer = try #require(try await Self.sessionCustomer(stack, checkout))
            #expect(customer != "cus_gone")
            #expect(try await stack.rememberedCustomers() == [customer])
        }
    }

    @Test("a 409 the lookup cannot resolve is a 502 naming Fintoc's code, and a retry recovers", arguments: StoreEngine.available)
    func unresolvedConflict(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            try await CheckoutFlowTests.sandboxFaults(
                stack, #"{"api_errors": [{"status": 409, "count": 1, "path_prefix": "/v2/checkout_sessions", "method": "POST"}]}"#)
            let body = Self.body("ord-conflict", taxType: "cl_rut", taxValue: "11.111.111-1")
            let refused = try await stack.createCheckout(body, key: "key-conflict")
            #expect(refused.status == .badGateway)
            let error = try ErrorBody(refused.body).error
            #expect(error.type == "provider_error" && error.code == "invalid_request" && error.param == "customer.tax_id")
            #expect(error.message.contains("409"))

            // A 502 is not stored: the same request again reaches Fintoc, and goes through.
            let retried = try await stack.createCheckout(body, key: "key-conflict")
            #expect(retried.status == .created, "\(String(buffer: retried.body))")
        }
    }

    @Test(
        "a retry reaches the session its first try made, even when the customer became known in between", arguments: StoreEngine.available)
    func retryKeepsItsSession(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            // The first try of order A sent customer_data, Fintoc made the session, and the gateway
            // never recorded it (its answer was lost): its choice stands, its session does not.
            let body = Self.body("ord-retry-a", taxType: "cl_rut", taxValue: "9.999.999-3")
            let sessions = try await CheckoutFlowTests.sandboxCount(stack, "/v2/checkout_sessions")
            try await stack.withGatewayFaultAfterFintoc(orderID: "ord-retry-a") {
                let lost = try await stack.createCheckout(body, key: "key-retry-a")
                #expect(lost.status == .internalServerError)
            }
            #expect(try await CheckoutFlowTests.sandboxCount(stack, "/v2/checkout_sessions") == sessions + 1)

            // Order B by the same person teaches the gateway the customer.
            let other = try await stack.createCheckout(Self.body("ord-retry-b", taxType: "cl_rut", taxValue: "9999999-3"))
            #expect(other.status == .created)

            // A's retry sends what its first try sent, so Fintoc replays that session.
            let retried = try await stack.createCheckout(body, key: "key-retry-a")
            #expect(retried.status == .created, "\(String(buffer: retried.body))")
            #expect(try await CheckoutFlowTests.sandboxCount(stack, "/v2/checkout_sessions") == sessions + 2)
        }
    }
}

extension Stack {
    /// The Fintoc customers the gateway remembers.
    func rememberedCustomers() async throws -> [String] {
        try await configuration.openStore().strings("SELECT customer_id FROM fintoc_customer ORDER BY customer_id").compactMap { $0 }
    }

    /// Runs `body` while the gateway cannot record a checkout of `orderID`: a trigger in its
    /// database aborts the insert, as a crash or a full disk would after Fintoc answered.
    func withGatewayFaultAfterFintoc(orderID: String, _ body: () async throws -> Void) async throws {
        let database = try await configuration.openStore()
        // A trigger takes no bound parameters: the id goes in as an SQL literal.
        let literal = "'" + orderID.replacingOccurrences(of: "'", with: "''") + "'"
        let install: [String]
        let remove: [String]
        if case .sqlite = configuration.database {
            install = [
                """
                CREATE TRIGGER test_lose_checkout BEFORE INSERT ON checkout WHEN NEW.order_id = \(literal)
                BEGIN SELECT RAISE(ABORT, 'injected by the test'); END
                """
            ]
            remove = ["DROP TRIGGER test_lose_checkout"]
        } else {
            install = [
                """
                CREATE FUNCTION test_lose_checkout() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.order_id = \(literal) THEN RAISE EXCEPTION 'injected by the test'; END IF;
                    RETURN NEW;
                END $$
                """,
                "CREATE TRIGGER test_lose_checkout BEFORE INSERT ON checkout FOR EACH ROW EXECUTE FUNCTION test_lose_checkout()",
            ]
            remove = ["DROP TRIGGER test_lose_checkout ON checkout", "DROP FUNCTION test_lose_checkout()"]
        }
        for statement in install { try await database.execute(statement) }
        do {
            try await body()
        } catch {
            for statement in remove { try? await database.execute(statement) }
            throw error
        }
        for statement in remove { try await database.execute(statement) }
    }
}
