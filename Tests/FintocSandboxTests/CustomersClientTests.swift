import Fintoc
import FintocSandbox
import Foundation
import HummingbirdTesting
import Testing

/// The `Fintoc` module's Customers endpoints against a live sandbox: what the gateway relies on
/// to reuse a returning customer after a 409.
@Suite("Fintoc client: customers against the sandbox")
struct CustomersClientTests {
    @Test("create, get, find by tax id in another spelling, and reuse in a session")
    func createGetFindReuse() async throws {
        try await withSandbox { tester, _ in
            let client = try ClientAgainstSandboxTests.client(tester)
            let created = try await client.createCustomer(
                CreateCustomer(
                    email: "Felipe@Example.cl", taxID: FintocTaxID(type: FintocTaxID.chileanRUT, value: "11.111.111-1"),
                    name: "Felipe Castro",
                    phone: "+56912345678", address: .init(line1: "Av. Providencia 1234", city: "Santiago", country: "CL"),
                    metadata: ["crm": "1"]
                ),
                idempotencyKey: "cus-1"
            )
            let id = try #require(created.id)
            #expect(id.hasPrefix("cus_") && created.object == "customer" && created.mode == .test)
            #expect(created.email == "felipe@example.cl" && created.taxID?.value == "11.111.111-1")
            #expect(created.address == .init(line1: "Av. Providencia 1234", city: "Santiago", country: "cl"))
            #expect(created.createdAt != nil && created.metadata?["crm"] == "1")
            #expect(try await client.customer(id) == created)

            let found = try await client.customers(query: [URLQueryItem(name: "tax_id", value: "11111111-1")]).collect()
            #expect(found.map(\.id) == [id])

            let session = try await client.createCheckoutSession(
                CreateCheckoutSessionV2(
                    amount: 1000, currency: .clp, successURL: "https://shop.example/ok", cancelURL: "https://shop.example/no", customer: id),
                idempotencyKey: "cs-reuse")
            #expect(session.customer == created)
            try await client.shutdown()
        }
    }

    @Test("a taken tax id is a typed, non-transient 409; an unknown id a 404")
    func conflictAndMissing() async throws {
        try await withSandbox { tester, _ in
            let client = try ClientAgainstSandboxTests.client(tester)
            let taxID = FintocTaxID(type: FintocTaxID.mexicanRFC, value: "XAXX010101000")
            _ = try await client.createCustomer(CreateCustomer(taxID: taxID), idempotencyKey: "rfc-1")
            do {
                _ = try await client.createCheckoutSession(
                    CreateCheckoutSessionV2(
                        amount: 1000, currency: .mxn, successURL: "https://shop.example/ok", cancelURL: "https://shop.example/no",
                        customerData: CustomerData(taxID: FintocTaxID(type: "mx_rfc", value: "xaxx010101000"))),
                    idempotencyKey: "cs-dup")
                Issue.record("a second customer with the same RFC was made")
            } catch {
                guard case .api(let api)? = error as? FintocClientError else {
                    Issue.record("expected an API error, got \(error)")
                    return
                }
                #expect(
                    api.status == 409 && api.type == .invalidRequestError && api.code == "customer_already_exists"
                        && api.param == "customer_data.tax_id")
                #expect((error as? FintocClientError)?.isTransient == false, "retrying cannot help: reuse the customer instead")
            }
            do {
                _ = try await client.customer("cus_missing")
                Issue.record("an unknown customer was found")
            } catch {
                guard case .api(let api)? = error as? FintocClientError else {
                    Issue.record("expected an API error, got \(error)")
                    return
                }
                #expect(api.status == 404 && api.code == "missing_resource")
            }
            try await client.shutdown()
        }
    }

    @Test("customers(query:) follows the v2 cursor Link across pages, keeping the filter")
    func pages() async throws {
        try await withSandbox { tester, _ in
            let client = try ClientAgainstSandboxTests.client(tester)
            var made: [String] = []
            for index in 1...5 {
                let body = String(20_000_000 + index)
                let rut = "\(body)-\(ChileanRUTTestDigits.checkDigit(body))"
                made.append(
                    try #require(
                        try await client.createCustomer(
                            CreateCustomer(taxID: FintocTaxID(type: "cl_rut", value: rut)), idempotencyKey: "page-\(index)"
                        ).id))
            }
            _ = try await client.createCustomer(CreateCustomer(email: "no-tax-id@example.cl"), idempotencyKey: "page-email")
            let all = try await client.customers(query: [
                URLQueryItem(name: "limit", value: "2"), URLQueryItem(name: "tax_id_type", value: "cl_rut"),
            ]).collect()
            #expect(all.compactMap(\.id) == made.reversed(), "three pages of two, newest first, the filter kept")
            let firstPage = try await client.customers(query: [URLQueryItem(name: "limit", value: "2")], maxPages: 1).collect()
            #expect(firstPage.count == 2, "maxPages bounds the walk")
            try await client.shutdown()
        }
    }
}
