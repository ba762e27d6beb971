import Fintoc
import FintocSandbox
import Foundation
import HummingbirdTesting
import Testing

/// Seed 002: a session's `customer_data` makes a customer unless one has its tax id (409);
/// `customer: "cus_…"` reuses one.
@Suite struct SessionCustomerTests {
    static func session(_ payer: String, extra: String = "") -> String {
        #"{"amount": 350000, "currency": "CLP", "success_url": "https://a.example/s", "cancel_url": "https://a.example/c", \#(payer)\#(extra)}"#
    }

    static let felipe =
        #""customer_data": {"tax_id": {"type": "cl_rut", "value": "11.111.111-1"}, "name": "Felipe Castro", "email": "Felipe@Example.cl", "metadata": {"crm": "1"}}"#

    @Test func customerDataMakesAStoredCustomerAndASecondOneWithItsTaxIDIs409() async throws {
        try await withSandbox { client, _ in
            let created = try await client.api(.post, "/v2/checkout_sessions", json: Self.session(Self.felipe))
            #expect(created.status == .created, "\(created.text)")
            let customer = try #require(try created.json()["customer"])
            let id = try #require(customer["id"]?.string)
            #expect(customer["object"]?.string == "customer")
            #expect(customer["tax_id"] == ["type": "cl_rut", "value": "11.111.111-1"], "as sent, as seed 002's answer shows it")
            #expect(customer["email"]?.string == "felipe@example.cl")
            #expect(customer["metadata"] == ["crm": "1"])
            #expect(try created.json()["customer_email"]?.string == "felipe@example.cl")

            let stored = try await client.api(.get, "/v2/customers/\(id)")
            #expect(stored.status == .ok, "the session's customer is a real, readable customer")
            #expect(try stored.json() == customer)
            #expect(try CustomerListTests.ids(await client.api(.get, "/v2/customers?tax_id=11111111-1")) == [id])

            let again = try await client.api(
                .post, "/v2/checkout_sessions",
                json: Self.session(#""customer_data": {"tax_id": {"type": "cl_rut", "value": "111111111"}, "email": "other@example.cl"}"#))
            #expect(again.status == .conflict)
            let error = try again.error()
            #expect(error?["type"]?.string == "invalid_request_error")
            #expect(error?["code"]?.string == "customer_already_exists")
            #expect(error?["param"]?.string == "customer_data.tax_id")
            #expect(error?["message"]?.string?.contains(id) == true)
            #expect(try await client.api(.get, "/v2/checkout_sessions").json().array?.count == 1, "the refused session was not made")
            #expect(try await client.api(.get, "/v2/customers").json().array?.count == 1)

            let emailOnly = Self.session(#""customer_data": {"email": "felipe@example.cl"}"#)
            #expect(try await client.api(.post, "/v2/checkout_sessions", json: emailOnly).status == .created)
            #expect(try await client.api(.post, "/v2/checkout_sessions", json: emailOnly).status == .created, "only tax ids are unique")
        }
    }

    @Test func customerReusesAnExistingCustomer() async throws {
        try await withSandbox { client, _ in
            let made = try await client.api(
                .post, "/v2/customers",
                json: #"{"tax_id": {"type": "mx_rfc", "value": "xaxx010101000"}, "email": "Ana@Example.mx", "name": "Ana"}"#)
            let customer = try made.json()
            let id = try #require(customer["id"]?.string)
            for _ in 0..<2 {
                let session = try await client.api(
                    .post, "/v2/checkout_sessions",
                    json: Self.session(#""customer": "\#(id)""#).replacingOccurrences(of: "CLP", with: "MXN"))
                #expect(session.status == .created, "\(session.text)")
                let json = try session.json()
                #expect(json["customer"] == customer, "the session embeds the stored customer")
                #expect(json["customer_email"]?.string == "ana@example.mx")
                #expect(try await client.api(.get, "/v2/checkout_sessions/\(json["id"]!.string!)").json()["customer"] == customer)
            }
            #expect(try await client.api(.get, "/v2/customers").json().array?.count == 1, "reuse makes no new customer")
        }
    }

    @Test func unknownCustomerIs404AndBothAre400AndNothingIsLeftBehind() async throws {
        try await withSandbox { client, _ in
            let unknown = try await client.api(.post, "/v2/checkout_sessions", json: Self.session(#""customer": "cus_missing""#))
            #expect(unknown.status == .notFound)
            #expect(try unknown.error()?["code"]?.string == "missing_resource")
            #expect(try unknown.error()?["param"]?.string == "customer")

            let notString = try await client.api(.post, "/v2/checkout_sessions", json: Self.session(#""customer": 5"#))
            #expect(notString.status == .badRequest)
            #expect(try notString.error()?["param"]?.string == "customer")

            let both = try await client.api(.post, "/v2/checkout_sessions", json: Self.session(#""customer": "cus_x", \#(Self.felipe)"#))
            #expect(both.status == .badRequest)
            #expect(try both.error()?["code"]?.string == "invalid_parameter")
            #expect(try both.error()?["param"]?.string == "customer")

            let badRUT = try await client.api(
                .post, "/v2/checkout_sessions",
                json: Self.session(#""customer_data": {"tax_id": {"type": "cl_rut", "value": "11.111.111-2"}}"#))
            #expect(try badRUT.error()?["code"]?.string == "invalid_tax_id")
            #expect(try badRUT.error()?["param"]?.string == "customer_data.tax_id.value")
            let neither = try await client.api(.post, "/v2/checkout_sessions", json: Self.session(#""customer_data": {"name": "x"}"#))
            #expect(try neither.error()?["code"]?.string == "missing_parameter")
            #expect(try neither.error()?["param"]?.string == "customer_data.email")

            // Refused for another reason after customer_data was read: no customer is made.
            let badLine = try await client.api(
                .post, "/v2/checkout_sessions", json: Self.session(Self.felipe, extra: #", "line_items": [{"quantity": 0}]"#))
            #expect(badLine.status == .badRequest)
            let badOption = try await client.api(
                .post, "/v2/checkout_sessions", json: Self.session(Self.felipe, extra: #", "business_profile": {"name": ""}"#))
            #expect(badOption.status == .badRequest)
            #expect(try await client.api(.get, "/v2/customers").json().array?.isEmpty == true)
            #expect(
                try await client.api(.post, "/v2/checkout_sessions", json: Self.session(Self.felipe)).status == .created,
                "the tax id is still free")
        }
    }
}
