import CobroTestSupport
import Fintoc
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import Testing

@testable import Gateway

/// Fintoc's checkout options through the storefront API, as the real sandbox receives them.
@Suite("Checkout options (gateway, sandbox)", .needsBroker, .tags(.broker))
struct CheckoutOptionsTests {
    /// The Fintoc object behind a gateway checkout, read from the sandbox's API.
    static func fintocObject(_ stack: Stack, _ checkout: TestResponse, path: String) async throws -> [String: Any] {
        let providerID = try #require(try checkout.json()["provider_id"] as? String)
        let response = try await stack.sandboxClient.execute(
            uri: "\(path)/\(providerID)", method: .get, headers: [.authorization: "sk_test_sandbox"])
        #expect(response.status == .ok)
        return try response.json()
    }

    @Test("a hosted checkout sends its payment methods, its pre-selected bank and its business profile")
    func hostedOptions() async throws {
        try await Stack.run { stack in
            var body = GatewayFixture.checkoutBody(orderID: "ord-options-1")
            body["payment_method_types"] = ["bank_transfer", "card"]
            body["payment_method_options"] = GatewayFixture.preselectedBank("cl_banco_estado")
            body["business_profile"] = ["name": "Tienda Sur"]
            let created = try await stack.createCheckout(body)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let session = try await Self.fintocObject(stack, created, path: "/v2/checkout_sessions")
            #expect(session["payment_method_types"] as? [String] == ["bank_transfer", "card"])
            let options = session["payment_method_options"] as? [String: Any]
            let institution =
                ((options?["bank_transfer"] as? [String: Any])?["sender_account"] as? [String: Any])?["institution_id"] as? [String: Any]
            #expect(institution?["value"] as? String == "cl_banco_estado")
            #expect((session["business_profile"] as? [String: Any])?["name"] as? String == "Tienda Sur")
        }
    }

    @Test("a hosted checkout without options leaves Fintoc's defaults")
    func noOptions() async throws {
        try await Stack.run { stack in
            let created = try await stack.createCheckout(GatewayFixture.checkoutBody(orderID: "ord-options-2"))
            #expect(created.status == .created)
            let session = try await Self.fintocObject(stack, created, path: "/v2/checkout_sessions")
            #expect((session["business_profile"] as? [String: Any])?["name"] == nil)
            #expect((session["payment_method_options"] as? [String: Any])?["bank_transfer"] == nil)
        }
    }

    @Test("a direct payment goes to the checkout's own account over the configured one", arguments: ["CLP", "MXN"])
    func recipientAccount(currency: String) async throws {
        try await Stack.run(adjust: { configuration in
            configuration.fintocRecipientAccount = .init(
                holderID: "111111111", number: "999999", type: "checking_account", institutionID: "cl_banco_bci")
        }) { stack in
            var body = GatewayFixture.checkoutBody(orderID: "ord-recipient-\(currency)", ui: "payment_intent", currency: currency)
            body["customer"] = ["email": "ana@example.cl", "name": "Ana"]
            body["recipient_account"] =
                currency == "CLP" ? GatewayFixture.chileanAccount(holder: "18.391.713-7") : GatewayFixture.mexicanAccount()
            let created = try await stack.createCheckout(body)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let intent = try await Self.fintocObject(stack, created, path: "/v1/payment_intents")
            let recipient = try #require(intent["recipient_account"] as? [String: Any])
            if currency == "CLP" {
                // Fintoc's own examples name the holder by RUT without dots or hyphen.
                #expect(recipient["holder_id"] as? String == "183917137" && recipient["number"] as? String == "123456")
                #expect(recipient["institution_id"] as? String == "cl_banco_de_chile" && recipient["type"] as? String == "checking_account")
            } else {
                #expect(recipient["number"] as? String == "012180001183597198" && recipient["type"] as? String == "clabe")
                #expect(recipient["holder_id"] as? String == "XAXX010101000" && recipient["institution_id"] as? String == "mx_bbva")
            }

            // Without one, the configured account stands.
            var plain = GatewayFixture.checkoutBody(orderID: "ord-recipient-plain-\(currency)", ui: "payment_intent")
            plain["customer"] = ["email": "ana@example.cl"]
            let configured = try await stack.createCheckout(plain)
            #expect(configured.status == .created)
            let other = try await Self.fintocObject(stack, configured, path: "/v1/payment_intents")
            #expect((other["recipient_account"] as? [String: Any])?["institution_id"] as? String == "cl_banco_bci")
        }
    }

    @Test("options are part of the request: the same key with other options is refused")
    func optionsInIdempotency() async throws {
        try await Stack.run { stack in
            var body = GatewayFixture.checkoutBody(orderID: "ord-options-key")
            body["business_profile"] = ["name": "Tienda Sur"]
            let first = try await stack.createCheckout(body, key: "key-options")
            #expect(first.status == .created)
            body["business_profile"] = ["name": "Tienda Norte"]
            let second = try await stack.createCheckout(body, key: "key-options")
            #expect(second.status == .conflict)
            #expect(try ErrorBody(second.body).error.code == "idempotency_key_reused")
        }
    }
}
