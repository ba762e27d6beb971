import Fintoc
import FintocSandbox
import Foundation
import HummingbirdTesting
import Testing

/// The Customers API v2 over HTTP: create, get, normalisation, validation with `param`, and the
/// 409 for a tax id another customer already has.
@Suite struct CustomersAPITests {
    @Test func createNormalisesAsFintocStoresAndGetAnswersTheSameObject() async throws {
        try await withSandbox { client, _ in
            let created = try await client.api(
                .post, "/v2/customers",
                json:
                    #"{"email": "Felipe@Example.CL", "tax_id": {"type": "cl_rut", "value": "11.111.111-1"}, "name": "Felipe Castro", "phone": "+56912345678", "address": {"line1": "Av. Providencia 1234", "city": "Santiago", "country": "CL", "line2": ""}, "metadata": {"crm": "c-1"}}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let json = try created.json()
            let id = try #require(json["id"]?.string)
            #expect(id.hasPrefix("cus_"))
            #expect(json["object"]?.string == "customer")
            #expect(json["mode"]?.string == "test")
            #expect(json["email"]?.string == "felipe@example.cl", "the email is stored lower case")
            #expect(json["tax_id"] == ["type": "cl_rut", "value": "11.111.111-1"], "a tax id is kept as written, as seed 002 shows it")
            #expect(json["name"]?.string == "Felipe Castro")
            #expect(json["phone"]?.string == "+56912345678")
            #expect(
                json["address"] == ["line1": "Av. Providencia 1234", "city": "Santiago", "country": "cl"],
                "only fields with a value, country lower case")
            #expect(json["metadata"] == ["crm": "c-1"])
            let createdAt = try #require(json["created_at"]?.string)
            #expect(createdAt.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil)

            let fetched = try await client.api(.get, "/v2/customers/\(id)")
            #expect(fetched.status == .ok)
            #expect(try fetched.json() == json)

            let bare = try await client.api(.post, "/v2/customers", json: #"{"email": "solo@example.cl"}"#).json()
            for key in ["name", "tax_id", "phone", "address"] {
                #expect(bare[key] == .null, "\(key) is written as null")
            }
            #expect(bare["metadata"] == [:])

            let rfc = try await client.api(.post, "/v2/customers", json: #"{"tax_id": {"type": "mx_rfc", "value": "xaxx010101000"}}"#)
                .json()
            #expect(rfc["tax_id"]?["value"]?.string == "xaxx010101000", "an RFC is kept as written too")
            #expect(rfc["email"] == .null)
        }
    }

    @Test func invalidCustomersAreRefusedNamingTheParameter() async throws {
        try await withSandbox { client, _ in
            let cases: [(String, String, String)] = [
                (#"{}"#, "missing_parameter", "email"),
                (#"{"name": "Nadie"}"#, "missing_parameter", "email"),
                (#"{"tax_id": {"type": "us_ssn", "value": "123"}}"#, "invalid_parameter", "tax_id.type"),
                (#"{"tax_id": {"type": "cl_rut"}}"#, "missing_parameter", "tax_id.value"),
                (#"{"tax_id": {"value": "11.111.111-1"}}"#, "missing_parameter", "tax_id.type"),
                (#"{"tax_id": "11.111.111-1"}"#, "invalid_parameter", "tax_id"),
                (#"{"tax_id": {"type": "cl_rut", "value": "11.111.111-2"}}"#, "invalid_tax_id", "tax_id.value"),
                (#"{"tax_id": {"type": "cl_rut", "value": "11.111-111-1"}}"#, "invalid_tax_id", "tax_id.value"),
                (#"{"tax_id": {"type": "mx_rfc", "value": "XAXX011301000"}}"#, "invalid_tax_id", "tax_id.value"),
                (#"{"email": "not-an-email"}"#, "invalid_email", "email"),
                (#"{"email": "a@b.cl", "phone": "56912345678"}"#, "invalid_phone", "phone"),
                (#"{"email": "a@b.cl", "phone": "+0912345678"}"#, "invalid_phone", "phone"),
                (#"{"email": "a@b.cl", "address": "Santiago"}"#, "invalid_parameter", "address"),
                (#"{"email": "a@b.cl", "address": {"country": "chile"}}"#, "invalid_parameter", "address.country"),
                (#"{"email": "a@b.cl", "address": {"city": 5}}"#, "invalid_parameter", "address.city"),
                (#"{"email": "a@b.cl", "metadata": "x"}"#, "invalid_parameter", "metadata"),
            ]
            for (body, code, param) in cases {
                let response = try await client.api(.post, "/v2/customers", json: body)
                #expect(response.status == .badRequest, "\(body)")
                let error = try response.error()
                #expect(error?["type"]?.string == "invalid_request_error", "\(body)")
                #expect(error?["code"]?.string == code, "\(body): \(response.text)")
                #expect(error?["param"]?.string == param, "\(body): \(response.text)")
            }
            #expect(try await client.api(.get, "/v2/customers").json().array?.isEmpty == true, "nothing was stored")

            let unknown = try await client.api(.get, "/v2/customers/cus_missing")
            #expect(unknown.status == .notFound)
            #expect(try unknown.error()?["code"]?.string == "missing_resource")
            #expect(try unknown.error()?["param"]?.string == "id")
        }
    }

    @Test func aTaxIDAnotherCustomerHasAnswers409InTheEnvelope() async throws {
        try await withSandbox { client, _ in
            let first = try await client.api(
                .post, "/v2/customers", json: #"{"email": "a@example.cl", "tax_id": {"type": "cl_rut", "value": "11.111.111-1"}}"#)
            #expect(first.status == .created)
            let id = try #require(try first.json()["id"]?.string)
            for spelling in ["111111111", "11111111-1", "11.111.111-1"] {
                let again = try await client.api(
                    .post, "/v2/customers", json: #"{"email": "b@example.cl", "tax_id": {"type": "cl_rut", "value": "\#(spelling)"}}"#)
                #expect(again.status == .conflict, "\(spelling)")
                let error = try again.error()
                #expect(error?["type"]?.string == "invalid_request_error")
                #expect(error?["code"]?.string == "customer_already_exists")
                #expect(error?["param"]?.string == "tax_id")
                #expect(error?["message"]?.string?.contains(id) == true, "the message names the customer to reuse")
            }
            let k = try await client.api(.post, "/v2/customers", json: #"{"tax_id": {"type": "cl_rut", "value": "10.000.013-K"}}"#)
            #expect(k.status == .created)
            let lowerK = try await client.api(.post, "/v2/customers", json: #"{"tax_id": {"type": "cl_rut", "value": "10000013k"}}"#)
            #expect(lowerK.status == .conflict, "the check digit K in any case is one RUT")

            #expect(
                try await client.api(.post, "/v2/customers", json: #"{"tax_id": {"type": "mx_rfc", "value": "XAXX010101000"}}"#).status
                    == .created)
            #expect(
                try await client.api(.post, "/v2/customers", json: #"{"tax_id": {"type": "mx_rfc", "value": "xaxx010101000"}}"#).status
                    == .conflict)
            #expect(
                try await client.api(.post, "/v2/customers", json: #"{"email": "a@example.cl"}"#).status == .created,
                "emails need not be unique")
            #expect(try await client.api(.get, "/v2/customers").json().array?.count == 4)
        }
    }

    @Test func a409IsStoredAndReplayedForItsIdempotencyKey() async throws {
        try await withSandbox { client, _ in
            let body = #"{"tax_id": {"type": "cl_rut", "value": "12.345.678-5"}}"#
            #expect(try await client.api(.post, "/v2/customers", json: body, idempotencyKey: "made").status == .created)
            let conflict = try await client.api(.post, "/v2/customers", json: body, idempotencyKey: "dup-1")
            let replay = try await client.api(.post, "/v2/customers", json: body, idempotencyKey: "dup-1")
            #expect(conflict.status == .conflict && replay.status == .conflict)
            #expect(conflict.header("Idempotent-Replayed") == nil)
            #expect(replay.header("Idempotent-Replayed") == "true")
            #expect(replay.text == conflict.text)

            let created = try await client.api(.post, "/v2/customers", json: body, idempotencyKey: "made")
            #expect(
                created.status == .created && created.header("Idempotent-Replayed") == "true",
                "the first answer, not a 409, for the key that made it")

            let session =
                #"{"amount": 1000, "currency": "CLP", "success_url": "https://a.example/s", "cancel_url": "https://a.example/c", "customer_data": \#(body)}"#
            let sessionConflict = try await client.api(.post, "/v2/checkout_sessions", json: session, idempotencyKey: "cs-dup")
            let sessionReplay = try await client.api(.post, "/v2/checkout_sessions", json: session, idempotencyKey: "cs-dup")
            #expect(sessionConflict.status == .conflict && sessionReplay.status == .conflict)
            #expect(sessionReplay.header("Idempotent-Replayed") == "true" && sessionReplay.text == sessionConflict.text)
        }
    }
}
