import Fintoc
import FintocSandbox
import Foundation
import HummingbirdTesting
import Testing

/// The `Fintoc` module's client against a live sandbox: every endpoint, the retry path, replay.
@Suite("Fintoc client against the sandbox")
struct ClientAgainstSandboxTests {
    /// A client for the sandbox behind `tester`, retrying fast so the tests stay quick.
    static func client(_ tester: any TestClientProtocol, key: String = secretKey, attempts: Int = 4) throws -> FintocClient {
        let port = try #require(tester.port)
        return FintocClient(
            configuration: FintocClientConfiguration(
                baseURL: "http://127.0.0.1:\(port)", secretKey: key, apiVersion: "2026-02-01",
                retry: RetryPolicy(maxAttempts: attempts, initialDelay: .milliseconds(10), maxDelay: .milliseconds(50))
            ))
    }

    /// A session for a new customer; with a tax id only once per sandbox, since a second
    /// customer with the same tax id is a 409.
    static func sessionBody(taxID: FintocTaxID? = nil) -> CreateCheckoutSessionV2 {
        CreateCheckoutSessionV2(
            amount: 350_000, currency: "clp", successURL: "https://shop.example/ok", cancelURL: "https://shop.example/cancel",
            customerData: CustomerData(name: "Felipe Castro", email: "Felipe@Example.cl", taxID: taxID),
            lineItems: [
                FintocLineItem(quantity: 1, priceData: .init(currency: .clp, unitAmount: 350_000, productData: .init(name: "Polera")))
            ],
            metadata: ["cobro_order_id": "ord-1"]
        )
    }

    @Test("checkout sessions v2 and v1: create, get, list across pages, expire")
    func checkoutSessions() async throws {
        try await withSandbox { tester, _ in
            let client = try Self.client(tester)
            let session = try await client.createCheckoutSession(
                Self.sessionBody(taxID: FintocTaxID(type: "cl_rut", value: "11.111.111-1")), idempotencyKey: "k-v2-1")
            #expect(session.id.hasPrefix("cs_") && session.status == .created && session.currency == .clp)
            #expect(session.redirectURL?.hasSuffix(session.id) == true)
            #expect(session.customer?.taxID?.value == "11.111.111-1", "as sent, as seed 002's answer shows it")
            #expect(session.customer?.email == "felipe@example.cl" && session.customer?.mode == .test)
            #expect(session.metadata?["cobro_order_id"] == "ord-1")
            #expect(try await client.checkoutSession(session.id).id == session.id)
            for index in 2...4 {
                _ = try await client.createCheckoutSession(Self.sessionBody(), idempotencyKey: "k-v2-\(index)")
            }
            let listed = try await client.checkoutSessions(query: [URLQueryItem(name: "per_page", value: "2")]).collect()
            #expect(listed.count == 4 && Set(listed.map(\.id)).count == 4, "the v2 cursor Link is followed")
            let expired = try await client.expireCheckoutSession(session.id, idempotencyKey: "k-exp-1")
            #expect(expired.status == .expired)

            let widget = try await client.createCheckoutSession(
                CreateCheckoutSessionV1(amount: 2476, currency: .clp, customerEmail: "a@example.cl"), idempotencyKey: "k-v1-1")
            #expect(widget.sessionToken?.hasPrefix(widget.id + "_sec_") == true)
            #expect(try await client.checkoutSession(widget.id, api: .v1).status == .created)
            #expect(try await client.checkoutSessions(api: .v1).collect().map(\.id).contains(widget.id))
            #expect(try await client.expireCheckoutSession(widget.id, api: .v1, idempotencyKey: "k-v1-exp").status == .expired)
            try await client.shutdown()
        }
    }

    @Test("payment intents, refunds and webhook endpoints")
    func intentsRefundsEndpoints() async throws {
        try await withSandbox { tester, _ in
            let client = try Self.client(tester)
            let recipient = BankAccount(
                holderID: "183917137", number: "123456", type: "checking_account", institutionID: "cl_banco_de_chile")
            var intents: [PaymentIntent] = []
            for index in 0..<3 {
                intents.append(
                    try await client.createPaymentIntent(
                        CreatePaymentIntent(
                            amount: 1000 + Int64(index), currency: .clp, customerEmail: "a@example.cl", recipientAccount: recipient),
                        idempotencyKey: "pi-\(index)"))
            }
            #expect(intents[0].widgetToken?.hasPrefix(intents[0].id + "_sec_") == true)
            #expect(try await client.paymentIntent(intents[0].id).recipientAccount?.institutionID == "cl_banco_de_chile")
            let listed = try await client.paymentIntents(query: [URLQueryItem(name: "per_page", value: "2")]).collect()
            #expect(Set(listed.map(\.id)).isSuperset(of: intents.map(\.id)), "the v1 page Link is followed")
            #expect(try await client.expirePaymentIntent(intents[1].id, idempotencyKey: "exp-1").status == .expired)

            _ = try await tester.complete(intents[0].id, "succeeded")
            let refund = try await client.createRefund(CreateRefund(resourceID: intents[0].id, amount: 500), idempotencyKey: "re-1")
            #expect(refund.id.hasPrefix("re_") && refund.amount == 500 && refund.resourceID == intents[0].id)
            #expect(try await client.refund(refund.id).id == refund.id)

            let endpoint = try await client.createWebhookEndpoint(
                WebhookEndpointParameters(
                    url: "http://127.0.0.1:9/hooks", enabledEvents: ["payment_intent.succeeded"], description: "test"),
                idempotencyKey: "we-1")
            #expect(endpoint.secret?.hasPrefix("whsec_") == true)
            let fetched = try await client.webhookEndpoint(endpoint.id)
            #expect(fetched.secret == nil, "the secret is shown once")
            let updated = try await client.updateWebhookEndpoint(
                endpoint.id, WebhookEndpointParameters(enabledEvents: ["*"], disabled: true))
            #expect(updated.enabledEvents == ["*"] && updated.status == .disabled)
            #expect(try await client.webhookEndpoints().collect().contains { $0.id == endpoint.id })
            _ = try await client.testWebhookEndpoint(endpoint.id, idempotencyKey: "we-test-1")
            _ = try await client.deleteWebhookEndpoint(endpoint.id)
            await #expect(throws: FintocClientError.self) { try await client.webhookEndpoint(endpoint.id) }
            try await client.shutdown()
        }
    }

    @Test("503 twice, then success: one session exists; a 429 is retried too")
    func retriesInjectedFailures() async throws {
        try await withSandbox { tester, store in
            let client = try Self.client(tester)
            try await tester.setFaults(#"{"api_errors": [{"status": 503, "count": 2, "path_prefix": "/v2/checkout_sessions"}]}"#)
            let session = try await client.createCheckoutSession(Self.sessionBody(), idempotencyKey: "retry-1")
            #expect(session.status == .created)
            try await tester.setFaults(#"{"api_errors": [{"status": 429, "count": 1}]}"#)
            #expect(try await client.checkoutSession(session.id).id == session.id)
            try await tester.setFaults("{}")
            let sessions = try await client.checkoutSessions().collect()
            #expect(sessions.map(\.id) == [session.id], "retries with the same key made one session")
            _ = store
            try await client.shutdown()
        }
    }

    @Test("retries run out: the last error is typed, with Fintoc's code and request id")
    func retriesExhausted() async throws {
        try await withSandbox { tester, _ in
            let client = try Self.client(tester, attempts: 2)
            try await tester.setFaults(#"{"api_errors": [{"status": 503, "count": 5}]}"#)
            do {
                _ = try await client.createPaymentIntent(CreatePaymentIntent(amount: 1000, currency: .clp), idempotencyKey: "x-1")
                Issue.record("a 503 was taken as success")
            } catch {
                guard case .api(let api)? = error as? FintocClientError else {
                    Issue.record("expected an API error, got \(error)")
                    return
                }
                #expect(api.status == 503 && api.code == "service_unavailable" && api.requestID != nil)
                #expect((error as? FintocClientError)?.isTransient == true)
            }
            try await client.shutdown()
        }
    }

    @Test("idempotent replay returns the same object; the same key with another body is refused")
    func idempotency() async throws {
        try await withSandbox { tester, _ in
            let client = try Self.client(tester)
            let first = try await client.createPaymentIntent(CreatePaymentIntent(amount: 1000, currency: .clp), idempotencyKey: "same")
            let again = try await client.createPaymentIntent(CreatePaymentIntent(amount: 1000, currency: .clp), idempotencyKey: "same")
            #expect(again.id == first.id)
            do {
                _ = try await client.createPaymentIntent(CreatePaymentIntent(amount: 2000, currency: .clp), idempotencyKey: "same")
                Issue.record("a reused key with another body was accepted")
            } catch {
                guard case .api(let api)? = error as? FintocClientError else {
                    Issue.record("expected an API error, got \(error)")
                    return
                }
                #expect(api.code == "idempotency_key_reused" && !api.description.isEmpty)
            }
            try await client.shutdown()
        }
    }

    @Test("validation and authentication errors keep Fintoc's type, code and param")
    func typedErrors() async throws {
        try await withSandbox { tester, _ in
            let client = try Self.client(tester)
            do {
                _ = try await client.createPaymentIntent(CreatePaymentIntent(amount: 1000, currency: "usd"), idempotencyKey: "bad-1")
                Issue.record("usd accepted")
            } catch {
                guard case .api(let api)? = error as? FintocClientError else {
                    Issue.record("\(error)")
                    return
                }
                #expect(api.status == 400 && api.type == .invalidRequestError && api.code == "invalid_currency" && api.param == "currency")
            }
            let wrongKey = try Self.client(tester, key: "sk_test_wrong")
            do {
                _ = try await wrongKey.paymentIntent("pi_1")
                Issue.record("a wrong key was accepted")
            } catch {
                guard case .api(let api)? = error as? FintocClientError else {
                    Issue.record("\(error)")
                    return
                }
                #expect(api.status == 401 && api.type == .authenticationError && api.code == "invalid_api_key")
                #expect(!api.description.contains("sk_test_wrong"))
            }
            try await client.shutdown()
            try await wrongKey.shutdown()
        }
    }
}
