import Fintoc
import FintocSandbox
import Foundation
import HummingbirdTesting
import PaymentsCore
import Testing

/// The checkout options of seed 002 (payment methods, a pre-selected bank, the business
/// profile) and a payment intent's `recipient_account`: echoed when right, refused with the
/// parameter's path when not.
@Suite struct CheckoutOptionsTests {
    static func session(currency: String = "CLP", _ extra: String) -> String {
        #"{"amount": 350000, "currency": "\#(currency)", "success_url": "https://a.example/s", "cancel_url": "https://a.example/c", \#(extra)}"#
    }

    static func intent(currency: String = "CLP", _ account: String) -> String {
        #"{"amount": 1000, "currency": "\#(currency)", "recipient_account": \#(account)}"#
    }

    static let institutionParam = "payment_method_options.bank_transfer.sender_account.institution_id.value"

    @Test func sessionOptionsAreEchoedAsSent() async throws {
        try await withSandbox { client, _ in
            let options =
                #""payment_method_types": ["bank_transfer"], "payment_method_options": {"bank_transfer": {"sender_account": {"institution_id": {"value": "cl_banco_estado"}}}}, "business_profile": {"name": "Tienda Ñandú"}"#
            let response = try await client.api(.post, "/v2/checkout_sessions", json: Self.session(options))
            #expect(response.status == .created, "\(response.text)")
            let json = try response.json()
            #expect(json["payment_method_types"] == ["bank_transfer"])
            #expect(
                json["payment_method_options"] == ["bank_transfer": ["sender_account": ["institution_id": ["value": "cl_banco_estado"]]]])
            #expect(json["business_profile"] == ["name": "Tienda Ñandú"])
            let fetched = try await client.api(.get, "/v2/checkout_sessions/\(json["id"]!.string!)").json()
            #expect(fetched["payment_method_options"] == json["payment_method_options"])

            let mexico = try await client.api(
                .post, "/v2/checkout_sessions",
                json: Self.session(
                    currency: "MXN",
                    #""payment_method_types": ["bank_transfer", "card"], "payment_method_options": {"bank_transfer": {"sender_account": {"institution_id": {"value": "mx_bbva"}}}}, "business_profile": {}"#
                ))
            #expect(mexico.status == .created, "\(mexico.text)")
            #expect(try mexico.json()["payment_method_types"] == ["bank_transfer", "card"])
            let defaults = try await client.createSessionV2()
            #expect(defaults["payment_method_types"] == ["bank_transfer"])
            #expect(defaults["payment_method_options"] == [:] && defaults["business_profile"] == [:])
        }
    }

    @Test func badSessionOptionsNameTheirPath() async throws {
        try await withSandbox { client, _ in
            let cases: [(String, String, String, String)] = [
                ("CLP", #""payment_method_types": ["cash"]"#, "invalid_parameter", "payment_method_types[0]"),
                ("CLP", #""payment_method_types": "bank_transfer""#, "invalid_parameter", "payment_method_types"),
                ("CLP", #""payment_method_options": "cl_banco_estado""#, "invalid_parameter", "payment_method_options"),
                ("CLP", #""payment_method_options": {"bank_transfer": []}"#, "invalid_parameter", "payment_method_options.bank_transfer"),
                (
                    "CLP", #""payment_method_options": {"bank_transfer": {"sender_account": {"institution_id": "cl_banco_estado"}}}"#,
                    "invalid_parameter", "payment_method_options.bank_transfer.sender_account.institution_id"
                ),
                (
                    "CLP", #""payment_method_options": {"bank_transfer": {"sender_account": {"institution_id": {}}}}"#, "missing_parameter",
                    Self.institutionParam
                ),
                (
                    "CLP", #""payment_method_options": {"bank_transfer": {"sender_account": {"institution_id": {"value": 7}}}}"#,
                    "invalid_parameter", Self.institutionParam
                ),
                (
                    "CLP", #""payment_method_options": {"bank_transfer": {"sender_account": {"institution_id": {"value": "mx_bbva"}}}}"#,
                    "invalid_institution", Self.institutionParam
                ),
                (
                    "MXN",
                    #""payment_method_options": {"bank_transfer": {"sender_account": {"institution_id": {"value": "cl_banco_estado"}}}}"#,
                    "invalid_institution", Self.institutionParam
                ),
                (
                    "CLP", #""payment_method_options": {"bank_transfer": {"sender_account": {"institution_id": {"value": "cl_"}}}}"#,
                    "invalid_institution", Self.institutionParam
                ),
                ("CLP", #""business_profile": "Tienda""#, "invalid_parameter", "business_profile"),
                ("CLP", #""business_profile": {"name": ""}"#, "invalid_parameter", "business_profile.name"),
                ("CLP", #""business_profile": {"name": "  "}"#, "invalid_parameter", "business_profile.name"),
                ("CLP", #""business_profile": {"name": 5}"#, "invalid_parameter", "business_profile.name"),
            ]
            for (currency, extra, code, param) in cases {
                let response = try await client.api(.post, "/v2/checkout_sessions", json: Self.session(currency: currency, extra))
                #expect(response.status == .badRequest, "\(extra)")
                #expect(try response.error()?["code"]?.string == code, "\(extra): \(response.text)")
                #expect(try response.error()?["param"]?.string == param, "\(extra): \(response.text)")
            }
        }
    }

    @Test func recipientAccountsFintocTakesAreEchoed() async throws {
        try await withSandbox { client, _ in
            let accounts: [(String, String)] = [
                (
                    "CLP",
                    #"{"holder_id": "18.391.713-7", "number": "123456", "type": "checking_account", "institution_id": "cl_banco_de_chile"}"#
                ),
                ("CLP", #"{"holder_id": "183917137", "number": "000123", "type": "sight_account", "institution_id": "cl_banco_estado"}"#),
                ("CLP", #"{"holder_id": "10000013-k", "number": "9", "type": "savings_account", "institution_id": "cl_banco_santander"}"#),
                (
                    "MXN",
                    #"{"holder_id": "XAXX010101000", "number": "002010077777777771", "type": "clabe", "institution_id": "mx_banamex"}"#
                ),
                ("MXN", #"{"holder_id": "gode561231gr8", "number": "032180000118359719", "type": "clabe", "institution_id": "mx_bbva"}"#),
            ]
            for (currency, account) in accounts {
                let response = try await client.api(.post, "/v1/payment_intents", json: Self.intent(currency: currency, account))
                #expect(response.status == .created, "\(account): \(response.text)")
                let sent = try JSONDecoder().decode(JSONValue.self, from: Data(account.utf8))
                #expect(try response.json()["recipient_account"] == sent, "kept as sent")
            }
        }
    }

    @Test func recipientAccountsFintocRefusesNameTheField() async throws {
        try await withSandbox { client, _ in
            let cases: [(String, String, String, String)] = [
                ("CLP", #""cl_banco_de_chile""#, "invalid_parameter", "recipient_account"),
                (
                    "CLP", #"{"number": "123456", "type": "checking_account", "institution_id": "cl_banco_de_chile"}"#, "missing_parameter",
                    "recipient_account.holder_id"
                ),
                (
                    "CLP", #"{"holder_id": "183917137", "type": "checking_account", "institution_id": "cl_banco_de_chile"}"#,
                    "missing_parameter", "recipient_account.number"
                ),
                (
                    "CLP", #"{"holder_id": "183917137", "number": "123456", "institution_id": "cl_banco_de_chile"}"#, "missing_parameter",
                    "recipient_account.type"
                ),
                (
                    "CLP", #"{"holder_id": "183917137", "number": "123456", "type": "checking_account"}"#, "missing_parameter",
                    "recipient_account.institution_id"
                ),
                (
                    "CLP",
                    #"{"holder_id": "183917137", "number": 123456, "type": "checking_account", "institution_id": "cl_banco_de_chile"}"#,
                    "invalid_parameter", "recipient_account.number"
                ),
                (
                    "CLP", #"{"holder_id": "183917137", "number": "123456", "type": "checking_account", "institution_id": "mx_bbva"}"#,
                    "invalid_institution", "recipient_account.institution_id"
                ),
                (
                    "CLP", #"{"holder_id": "183917137", "number": "123456", "type": "clabe", "institution_id": "cl_banco_de_chile"}"#,
                    "invalid_type", "recipient_account.type"
                ),
                (
                    "CLP",
                    #"{"holder_id": "18.391.713-8", "number": "123456", "type": "checking_account", "institution_id": "cl_banco_de_chile"}"#,
                    "invalid_tax_id", "recipient_account.holder_id"
                ),
                (
                    "CLP",
                    #"{"holder_id": "XAXX010101000", "number": "123456", "type": "checking_account", "institution_id": "cl_banco_de_chile"}"#,
                    "invalid_tax_id", "recipient_account.holder_id"
                ),
                (
                    "CLP",
                    #"{"holder_id": "183917137", "number": "12-3456", "type": "checking_account", "institution_id": "cl_banco_de_chile"}"#,
                    "invalid_account_number", "recipient_account.number"
                ),
                (
                    "MXN",
                    #"{"holder_id": "XAXX010101000", "number": "002010077777777771", "type": "checking_account", "institution_id": "mx_bbva"}"#,
                    "invalid_type", "recipient_account.type"
                ),
                (
                    "MXN", #"{"holder_id": "XAXX010101000", "number": "002010077777777772", "type": "clabe", "institution_id": "mx_bbva"}"#,
                    "invalid_account_number", "recipient_account.number"
                ),
                (
                    "MXN", #"{"holder_id": "XAXX010101000", "number": "00201007777777777", "type": "clabe", "institution_id": "mx_bbva"}"#,
                    "invalid_account_number", "recipient_account.number"
                ),
                (
                    "MXN", #"{"holder_id": "183917137", "number": "002010077777777771", "type": "clabe", "institution_id": "mx_bbva"}"#,
                    "invalid_tax_id", "recipient_account.holder_id"
                ),
                (
                    "MXN",
                    #"{"holder_id": "XAXX010101000", "number": "002010077777777771", "type": "clabe", "institution_id": "cl_banco_estado"}"#,
                    "invalid_institution", "recipient_account.institution_id"
                ),
            ]
            for (currency, account, code, param) in cases {
                let response = try await client.api(.post, "/v1/payment_intents", json: Self.intent(currency: currency, account))
                #expect(response.status == .badRequest, "\(account)")
                #expect(try response.error()?["code"]?.string == code, "\(account): \(response.text)")
                #expect(try response.error()?["param"]?.string == param, "\(account): \(response.text)")
            }
            #expect(try await client.api(.get, "/v1/payment_intents").json().array?.isEmpty == true)
        }
    }
}
