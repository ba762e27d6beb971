import Fintoc
import FintocSandbox
import Foundation
import HummingbirdTesting
import PaymentsCore
import Testing

/// The API as Fintoc's clients see it: auth, validation codes, idempotency, pagination,
/// request ids, unknown routes and the api_errors fault.
@Suite struct APITests {
    @Test func authFailuresAnswer401WithFintocCodes() async throws {
        try await withSandbox { client, _ in
            let missing = try await client.api(.get, "/v1/payment_intents", key: nil)
            #expect(missing.status == .unauthorized)
            #expect(try missing.error()?["code"]?.string == "invalid_api_key")
            #expect(try missing.error()?["type"]?.string == "authentication_error")

            let wrong = try await client.api(.get, "/v1/payment_intents", key: "sk_test_wrong")
            #expect(wrong.status == .unauthorized)
            #expect(try wrong.error()?["code"]?.string == "invalid_api_key")

            let publicKey = try await client.api(.get, "/v2/checkout_sessions", key: "pk_test_sandbox")
            #expect(publicKey.status == .unauthorized)
            #expect(try publicKey.error()?["code"]?.string == "invalid_api_key_mode")

            let live = try await client.api(.get, "/v1/refunds", key: "sk_live_123")
            #expect(try live.error()?["code"]?.string == "invalid_api_key_mode")

            let bearer = try await client.api(.get, "/v1/payment_intents", key: "Bearer \(secretKey)")
            #expect(bearer.status == .ok)
            let control = try await client.api(.get, "/sandbox/deliveries", key: "sk_test_nope")
            #expect(control.status == .unauthorized)
        }
    }

    @Test func aFailedAuthenticationStoresNothingUnderItsIdempotencyKey() async throws {
        try await withSandbox { client, _ in
            let body = #"{"amount": 1000, "currency": "CLP"}"#
            let refused = try await client.api(.post, "/v1/payment_intents", json: body, key: "sk_test_wrong", idempotencyKey: "auth-key")
            #expect(refused.status == .unauthorized)
            let accepted = try await client.api(.post, "/v1/payment_intents", json: body, idempotencyKey: "auth-key")
            #expect(accepted.status == .created)
            #expect(accepted.header("Idempotent-Replayed") == nil)
        }
    }

    @Test func validationErrorsNameTheParameterWithFintocCodes() async throws {
        try await withSandbox { client, _ in
            let cases: [(String, String, String, String)] = [
                (
                    "/v2/checkout_sessions",
                    #"{"currency": "CLP", "success_url": "https://a.example/s", "cancel_url": "https://a.example/c"}"#, "missing_parameter",
                    "amount"
                ),
                (
                    "/v2/checkout_sessions",
                    #"{"amount": 100, "currency": "USD", "success_url": "https://a.example/s", "cancel_url": "https://a.example/c"}"#,
                    "invalid_currency", "currency"
                ),
                (
                    "/v2/checkout_sessions",
                    #"{"amount": -5, "currency": "CLP", "success_url": "https://a.example/s", "cancel_url": "https://a.example/c"}"#,
                    "invalid_amount", "amount"
                ),
                (
                    "/v2/checkout_sessions",
                    #"{"amount": 10.5, "currency": "CLP", "success_url": "https://a.example/s", "cancel_url": "https://a.example/c"}"#,
                    "invalid_amount", "amount"
                ),
                (
                    "/v2/checkout_sessions", #"{"amount": 100, "currency": "CLP", "cancel_url": "https://a.example/c"}"#,
                    "missing_parameter", "success_url"
                ),
                (
                    "/v2/checkout_sessions",
                    #"{"amount": 100, "currency": "CLP", "success_url": "nope", "cancel_url": "https://a.example/c"}"#, "invalid_url",
                    "success_url"
                ),
                (
                    "/v2/checkout_sessions",
                    #"{"amount": 100, "currency": "CLP", "success_url": "https://a.example/s", "cancel_url": "https://a.example/c", "line_items": [{"quantity": 1, "price_data": {"currency": "CLP", "product_data": {"name": "x"}}}]}"#,
                    "missing_parameter", "line_items[0].price_data.unit_amount"
                ),
                ("/v1/payment_intents", #"{"amount": 100}"#, "missing_parameter", "currency"),
                (
                    "/v1/payment_intents", #"{"amount": 100, "currency": "CLP", "customer_email": "not-an-email"}"#, "invalid_email",
                    "customer_email"
                ),
                ("/v1/checkout_sessions", #"{"currency": "MXN"}"#, "missing_parameter", "amount"),
                ("/v1/webhook_endpoints", #"{"url": "https://a.example/hook"}"#, "missing_parameter", "enabled_events"),
                ("/v1/refunds", #"{}"#, "missing_parameter", "resource_id"),
                ("/sandbox/complete", #"{"id": "cs_x", "outcome": "maybe"}"#, "invalid_parameter", "outcome"),
            ]
            for (path, body, code, param) in cases {
                let response = try await client.api(.post, path, json: body)
                #expect(response.status == .badRequest, "\(path) \(body)")
                let error = try response.error()
                #expect(error?["type"]?.string == "invalid_request_error")
                #expect(error?["code"]?.string == code, "\(path) \(body): \(response.text)")
                #expect(error?["param"]?.string == param, "\(path) \(body): \(response.text)")
            }
            let broken = try await client.api(.post, "/v1/payment_intents", json: "{nope")
            #expect(try broken.error()?["code"]?.string == "invalid_json")
        }
    }

    @Test func unknownIdsRoutesAndStateConflictsAnswerTheEnvelope() async throws {
        try await withSandbox { client, _ in
            for path in [
                "/v2/checkout_sessions/cs_missing", "/v1/payment_intents/pi_missing", "/v1/refunds/re_missing",
                "/v1/webhook_endpoints/we_missing",
            ] {
                let response = try await client.api(.get, path)
                #expect(response.status == .notFound)
                #expect(try response.error()?["code"]?.string == "missing_resource", "\(path)")
                #expect(response.header("X-Request-Id")?.hasPrefix("req_") == true)
            }
            let route = try await client.api(.get, "/v3/nothing")
            #expect(route.status == .notFound)
            #expect(try route.error()?["code"]?.string == "invalid_route")
            #expect(route.header("X-Request-Id") != nil)

            let session = try await client.createSessionV2()
            let id = session["id"]!.string!
            #expect(try await client.complete(id, "succeeded").status == .ok)
            let expire = try await client.api(.post, "/v2/checkout_sessions/\(id)/expire")
            #expect(expire.status == .conflict)
            #expect(try expire.error()?["code"]?.string == "checkout_session_not_expirable")
            let again = try await client.complete(id, "failed")
            #expect(again.status == .conflict)
            #expect(try again.error()?["code"]?.string == "checkout_session_finished")
        }
    }

    @Test func objectsLookLikeFintocs() async throws {
        try await withSandbox { client, _ in
            let session = try await client.createSessionV2(amount: 350_000, currency: "clp")
            #expect(session["id"]?.string?.hasPrefix("cs_") == true)
            #expect(session["currency"]?.string == "CLP")
            #expect(session["mode"]?.string == "test")
            #expect(session["object"]?.string == "checkout_session")
            #expect(session["status"]?.string == "created")
            #expect(session["redirect_url"]?.string == "http://127.0.0.1:8090/checkout/\(session["id"]!.string!)")
            #expect(session["session_token"] == .null)
            let created = session["created_at"]!.string!
            #expect(created.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil)
            let typed = try FintocJSON.decoder().decode(CheckoutSession.self, from: Data(jsonData(session)))
            #expect(typed.amount == 350_000)
            #expect(typed.expiresAt!.timeIntervalSince(typed.createdAt!) == 3600)

            let v1 = try await client.api(
                .post, "/v1/checkout_sessions", json: #"{"amount": 2476, "currency": "mxn", "customer_email": "a@b.cl"}"#)
            let v1json = try v1.json()
            #expect(v1json["session_token"]?.string?.hasPrefix(v1json["id"]!.string! + "_sec_") == true)
            #expect(v1json["currency"]?.string == "MXN")

            let intent = try await client.createIntent()
            #expect(intent["widget_token"]?.string?.hasPrefix(intent["id"]!.string! + "_sec_") == true)
            #expect(intent["error_reason"] == .null)

            let endpoint = try await client.api(
                .post, "/v1/webhook_endpoints", json: #"{"url": "https://a.example/hook", "enabled_events": ["*"]}"#)
            let endpointJSON = try endpoint.json()
            #expect(endpointJSON["id"]?.string?.hasPrefix("we_") == true)
            #expect(endpointJSON["secret"]?.string?.hasPrefix("whsec_") == true)
            let fetched = try await client.api(.get, "/v1/webhook_endpoints/\(endpointJSON["id"]!.string!)").json()
            #expect(fetched["secret"] == nil, "the secret is shown only once")
        }
    }

    @Test func idempotentReplayAndMismatch() async throws {
        try await withSandbox { client, store in
            let body = #"{"amount": 5000, "currency": "CLP"}"#
            let first = try await client.api(.post, "/v1/payment_intents", json: body, idempotencyKey: "key-1")
            let second = try await client.api(.post, "/v1/payment_intents", json: body, idempotencyKey: "key-1")
            #expect(first.status == .created)
            #expect(second.status == .created)
            #expect(second.header("Idempotent-Replayed") == "true")
            #expect(first.header("Idempotent-Replayed") == nil)
            #expect(try first.json()["id"] == second.json()["id"])
            let intents = try await client.api(.get, "/v1/payment_intents").json().array!
            #expect(intents.count == 1)

            let mismatch = try await client.api(
                .post, "/v1/payment_intents", json: #"{"amount": 6000, "currency": "CLP"}"#, idempotencyKey: "key-1")
            #expect(mismatch.status == .badRequest)
            #expect(try mismatch.error()?["code"]?.string == "idempotency_key_reused")
            #expect(try mismatch.error()?["param"]?.string == "Idempotency-Key")

            // An error is stored and replayed too.
            let badFirst = try await client.api(.post, "/v1/payment_intents", json: #"{"amount": 1}"#, idempotencyKey: "key-2")
            let badAgain = try await client.api(.post, "/v1/payment_intents", json: #"{"amount": 1}"#, idempotencyKey: "key-2")
            #expect(badFirst.status == .badRequest)
            #expect(badAgain.status == .badRequest)
            #expect(badAgain.header("Idempotent-Replayed") == "true")
            #expect(badFirst.text == badAgain.text)

            let long = try await client.api(.post, "/v1/payment_intents", json: body, idempotencyKey: String(repeating: "k", count: 256))
            #expect(try long.error()?["code"]?.string == "invalid_idempotency_key")
            _ = store
        }
    }

    @Test func v1ListsPageWithLinkHeaders() async throws {
        try await withSandbox { client, _ in
            var ids: [String] = []
            for amount in 1...5 { ids.append(try await client.createIntent(amount: Int64(amount * 100))["id"]!.string!) }
            let first = try await client.api(.get, "/v1/payment_intents?per_page=2")
            let links = Self.links(first)
            #expect(try first.json().array?.count == 2)
            #expect(links["first"]?.hasSuffix("/v1/payment_intents?page=1&per_page=2") == true)
            #expect(links["next"]?.hasSuffix("?page=2&per_page=2") == true)
            #expect(links["last"]?.hasSuffix("?page=3&per_page=2") == true)
            #expect(links["prev"] == nil)

            var seen: [String] = []
            var next: String? = "/v1/payment_intents?per_page=2"
            while let uri = next {
                let page = try await client.api(.get, uri)
                seen += try page.json().array!.map { $0["id"]!.string! }
                next = Self.links(page)["next"].map(Self.pathAndQuery)
            }
            #expect(seen == ids.reversed(), "newest first, every intent once")

            let last = try await client.api(.get, "/v1/payment_intents?per_page=2&page=3")
            #expect(Self.links(last)["prev"]?.hasSuffix("?page=2&per_page=2") == true)
            #expect(Self.links(last)["next"] == nil)
            let bad = try await client.api(.get, "/v1/payment_intents?per_page=0")
            #expect(try bad.error()?["param"]?.string == "per_page")
        }
    }

    @Test func v2ListsPageByCursorWithNextOnly() async throws {
        try await withSandbox { client, _ in
            var ids: [String] = []
            for _ in 0..<3 { ids.append(try await client.createSessionV2()["id"]!.string!) }
            let first = try await client.api(.get, "/v2/checkout_sessions?per_page=2")
            let header = first.header("Link") ?? ""
            #expect(
                header.range(
                    of: #"^<http://[^>]+/v2/checkout_sessions\?per_page=2&starting_after=cs_[A-Za-z0-9]+>; rel="next"$"#,
                    options: .regularExpression) != nil, "\(header)")
            let firstIDs = try first.json().array!.map { $0["id"]!.string! }
            #expect(firstIDs == [ids[2], ids[1]])
            let second = try await client.api(.get, Self.pathAndQuery(Self.links(first)["next"]!))
            #expect(try second.json().array!.map { $0["id"]!.string! } == [ids[0]])
            #expect(second.header("Link") == nil)
        }
    }

    @Test func apiErrorFaultFailsTheNextMatchingCalls() async throws {
        try await withSandbox { client, _ in
            try await client.setFaults(
                #"{"api_errors": [{"status": 503, "count": 2, "path_prefix": "/v2/checkout_sessions"}, {"status": 429, "count": 1, "path_prefix": "/v1/payment_intents"}]}"#
            )
            let body = #"{"amount": 100, "currency": "CLP", "success_url": "https://a.example/s", "cancel_url": "https://a.example/c"}"#
            let a = try await client.api(.post, "/v2/checkout_sessions", json: body)
            let b = try await client.api(.post, "/v2/checkout_sessions", json: body)
            let c = try await client.api(.post, "/v2/checkout_sessions", json: body)
            #expect(a.status == .serviceUnavailable)
            #expect(try a.error()?["type"]?.string == "api_error")
            #expect(b.status == .serviceUnavailable)
            #expect(c.status == .created)
            let limited = try await client.api(.get, "/v1/payment_intents")
            #expect(limited.status == .tooManyRequests)
            #expect(try limited.error()?["code"]?.string == "rate_limit_exceeded")
            #expect(limited.header("Retry-After") == "1")
            #expect(try await client.api(.get, "/v1/payment_intents").status == .ok)
        }
    }

    static func links(_ response: TestResponse) -> [String: String] {
        var result: [String: String] = [:]
        for part in (response.header("Link") ?? "").split(separator: ",") {
            let pieces = part.split(separator: ";")
            guard pieces.count == 2 else { continue }
            let url = pieces[0].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
            let rel = pieces[1].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "rel=", with: "").trimmingCharacters(
                in: CharacterSet(charactersIn: "\""))
            result[rel] = url
        }
        return result
    }

    static func pathAndQuery(_ url: String) -> String {
        let components = URLComponents(string: url)!
        return components.path + (components.query.map { "?\($0)" } ?? "")
    }
}

func jsonData(_ value: JSONValue) -> Data {
    (try? FintocJSON.encoder().encode(value)) ?? Data()
}
