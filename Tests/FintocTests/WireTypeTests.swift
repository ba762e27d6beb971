import Foundation
import PaymentsCore
import Testing

@testable import Fintoc

/// Decoding follows the shapes in Fintoc's guides (the seeds) and tolerates what the API may add.
@Suite("Fintoc wire types")
struct WireTypeTests {
    /// `checkout_session.finished` as seed 002 shows it (abridged only where marked).
    static let finishedEvent = #"""
        {
          "id": "evt_a4xK32BanKWYn", "object": "event", "type": "checkout_session.finished", "mode": "test",
          "created_at": "2026-01-13T18:49:02Z",
          "data": {
            "id": "cs_li5531onlFDi235", "mode": "test", "amount": 350000, "object": "checkout_session",
            "status": "finished", "flow": "payment", "currency": "CLP", "metadata": {"order": "987654321"},
            "cancel_url": "https://merchant.com/cancel", "created_at": "2026-01-13T18:48:25Z",
            "expires_at": "2026-01-14T18:48:25Z", "success_url": "https://merchant.com/success",
            "redirect_url": "https://pay.fintoc.com/checkout/cs_li5531onlFDi235",
            "session_token": null, "customer_email": null,
            "customer": {"id": "cus_3B2bODrQFje7ZVkT69xyaTSDwXQ", "object": "customer", "name": "Felipe Castro",
                         "email": "felipe@example.cl", "metadata": {}, "tax_id": {"type": "cl_rut", "value": "11.111.111-1"}},
            "payment_method_types": ["bank_transfer"], "business_profile": {},
            "payment_resource": {
              "payment_intent": {
                "id": "pi_38DNJo3rbvGUzKFvCGZ6dxR1Kxx", "mode": "test", "amount": 350000, "object": "payment_intent",
                "status": "succeeded", "currency": "CLP", "metadata": {}, "created_at": "2026-01-13T18:48:31Z",
                "expires_at": "2026-01-14T18:48:25Z", "error_reason": null, "payment_type": "bank_transfer",
                "reference_id": null, "widget_token": null, "customer_email": null,
                "sender_account": {"type": "checking_account", "number": "813990168", "holder_id": "11.111.111-1", "institution_id": "cl_banco_falabella"},
                "business_profile": {}, "transaction_date": null, "recipient_account": null, "payment_type_options": {}
              }
            },
            "payment_method_options": {}
          }
        }
        """#

    @Test("a finished v2 session reads through to its payment intent's status")
    func finishedSession() throws {
        let event = try FintocJSON.decoder().decode(Event.self, from: Data(Self.finishedEvent.utf8))
        #expect(event.type == .checkoutSessionFinished)
        #expect(event.mode == .test)
        #expect(try event.paymentIntent() == nil, "a checkout_session event's data is not a payment intent")
        let session = try #require(try event.checkoutSession())
        #expect(session.status == .finished)
        #expect(session.currency == .clp)
        #expect(session.metadata?["order"] == "987654321")
        #expect(session.customer?.taxID?.value == "11.111.111-1")
        let intent = try #require(session.paymentResource?.paymentIntent)
        #expect(intent.status == .succeeded)
        #expect(intent.status.isFinal)
        #expect(intent.senderAccount?.institutionID == "cl_banco_falabella")
        #expect(intent.createdAt == Date(timeIntervalSince1970: 1_768_330_111))
    }

    @Test("the v1 widget session of seed 003: lower-case currency, Unix-second timestamps, unknown status and fields")
    func legacySession() throws {
        let json = #"""
            {"id": "cs_li5531onlFDi235", "created_at": "2021-10-15T15:22:11.474Z", "object": "session",
             "currency": "clp", "amount": 2476, "customer_email": "felipe@example.cl", "expires_at": "1718634045",
             "product": "payments", "mode": "live", "return_url": "https://example.com/return",
             "status": "succeeded", "session_token": "cs_li5531onlFDi235_sec_a4xK32BanKWYn", "type": "embedded",
             "metadata": {"order_id": "#12513", "nested": {"a": [1, 2.5, true, null]}}}
            """#
        let session = try FintocJSON.decoder().decode(CheckoutSession.self, from: Data(json.utf8))
        #expect(session.currency == .clp)
        #expect(session.currency.rawValue == "CLP")
        #expect(session.status.rawValue == "succeeded")
        #expect(!session.status.isKnown)
        #expect(session.mode == .live)
        #expect(session.expiresAt == Date(timeIntervalSince1970: 1_718_634_045))
        #expect(session.createdAt == Date(timeIntervalSince1970: 1_634_311_331.474))
        #expect(session.metadata?["nested"] == ["a": [1, .double(2.5), true, nil]])
        #expect(session.sessionToken == "cs_li5531onlFDi235_sec_a4xK32BanKWYn")
    }

    @Test("a payment intent with statuses and reasons this code has never seen still decodes")
    func unknownValues() throws {
        let json = #"""
            {"id": "pi_1", "object": "payment_intent", "amount": 1000, "currency": "MXN", "status": "under_review",
             "error_reason": "a_new_reason", "widget_token": "pi_1_sec_x", "created_at": 1634311331,
             "recipient_account": {"holder_id": "183917137", "number": "123456", "type": "checking_account", "institution_id": "cl_banco_de_chile"},
             "next_action": {"type": "approve_in_bank"}, "brand_new_field": {"x": 1}}
            """#
        let intent = try FintocJSON.decoder().decode(PaymentIntent.self, from: Data(json.utf8))
        #expect(intent.status == PaymentIntent.Status(rawValue: "under_review"))
        #expect(!intent.status.isKnown && !intent.status.isFinal)
        #expect(intent.errorReason == "a_new_reason")
        #expect(intent.createdAt == Date(timeIntervalSince1970: 1_634_311_331))
        #expect(intent.nextAction?["type"] == "approve_in_bank")
        #expect(intent.recipientAccount?.holderID == "183917137")
    }

    @Test(
        "absurd Unix times are refused, not carried into dates that cannot be written",
        arguments: [#""99999999999999999999""#, "1e17", "-5"])
    func absurdTimestamps(value: String) throws {
        let json = #"{"id": "pi_1", "amount": 1, "currency": "CLP", "status": "created", "expires_at": "# + value + "}"
        #expect(throws: DecodingError.self) { try FintocJSON.decoder().decode(PaymentIntent.self, from: Data(json.utf8)) }
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1e17)) == "9999-12-31T23:59:59.000Z", "formatting clamps, never traps")
    }

    @Test("an event of a type nobody knows is read, with its data kept as raw JSON")
    func unknownEventType() throws {
        let json =
            #"{"id": "evt_9", "object": "event", "type": "checkout_session.completed", "mode": "test", "created_at": "2024-06-04T15:32:46.721Z", "data": {"id": "cs_1", "whatever": [1]}}"#
        let event = try FintocJSON.decoder().decode(Event.self, from: Data(json.utf8))
        #expect(!event.type.isKnown)
        #expect(event.type.objectKind == "checkout_session")
        #expect(event.data["whatever"] == [1])
    }

    @Test("the error envelope, with an unknown type kept")
    func errorEnvelope() throws {
        let json =
            #"{"error": {"type": "invalid_request_error", "code": "missing_parameter", "message": "Missing required param: amount", "param": "amount", "doc_url": "https://docs.fintoc.com/reference/errors"}}"#
        let envelope = try FintocJSON.decoder().decode(ErrorEnvelope.self, from: Data(json.utf8))
        let error = FintocAPIError(status: 400, envelope: envelope.error, requestID: "req_1")
        #expect(error.type == .invalidRequestError)
        #expect(error.code == "missing_parameter")
        #expect(
            error.description
                == "Fintoc answered HTTP 400 invalid_request_error missing_parameter (param amount): Missing required param: amount [request req_1]"
        )
        let odd = try FintocJSON.decoder().decode(ErrorEnvelope.self, from: Data(#"{"error": {"type": "quota_error"}}"#.utf8))
        #expect(!odd.error.type.isKnown)
    }

    @Test("create bodies encode with Fintoc's names and upper-case currencies")
    func createBodies() throws {
        let body = CreateCheckoutSessionV2(
            amount: 350_000, currency: "clp", successURL: "https://merchant.com/success", cancelURL: "https://merchant.com/cancel",
            customerData: CustomerData(
                name: "Felipe Castro", email: "felipe@example.cl", taxID: FintocTaxID(type: "cl_rut", value: "11.111.111-1")),
            lineItems: [
                FintocLineItem(
                    quantity: 1, priceData: .init(currency: .clp, unitAmount: 350_000, productData: .init(name: "Annual subscription")))
            ],
            metadata: ["order": "987654321"]
        )
        let json = try #require(try JSONSerialization.jsonObject(with: FintocJSON.encoder().encode(body)) as? [String: Any])
        #expect(json["currency"] as? String == "CLP")
        #expect(json["success_url"] as? String == "https://merchant.com/success")
        #expect((json["customer_data"] as? [String: Any])?["tax_id"] as? [String: String] == ["type": "cl_rut", "value": "11.111.111-1"])
        let line = try #require((json["line_items"] as? [[String: Any]])?.first)
        #expect((line["price_data"] as? [String: Any])?["unit_amount"] as? Int == 350_000)
        #expect(json["customer"] == nil, "absent optionals are left out, not sent as null")
    }
}

@Suite("Link headers and retry delays")
struct ClientPartsTests {
    @Test("v1 page links and a v2 cursor link")
    func linkHeader() {
        let v1 = LinkHeader.parse(
            #"<http://127.0.0.1:8090/v1/payment_intents?page=1&per_page=30>; rel="first", <http://127.0.0.1:8090/v1/payment_intents?page=2>; rel="next",<http://127.0.0.1:8090/v1/payment_intents?page=9>; rel="last""#
        )
        #expect(v1["first"]?.absoluteString == "http://127.0.0.1:8090/v1/payment_intents?page=1&per_page=30")
        #expect(v1["next"]?.absoluteString == "http://127.0.0.1:8090/v1/payment_intents?page=2")
        #expect(v1["last"]?.query == "page=9")
        let v2 = LinkHeader.parse(#"<https://api.fintoc.com/v2/checkout_sessions?starting_after=cs_1,cs_2>; rel=next"#)
        #expect(v2["next"]?.query == "starting_after=cs_1,cs_2")
        #expect(LinkHeader.parse("").isEmpty)
        #expect(LinkHeader.parse("garbage; rel=next").isEmpty)
        #expect(LinkHeader.parse(#"<http://x/a>; rel="prev next""#).keys.sorted() == ["next", "prev"])
    }

    @Test("delays double from the initial one up to the cap, scaled by the jitter")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 6, initialDelay: .seconds(1), maxDelay: .seconds(16))
        #expect((1...6).map { policy.delay(beforeRetry: $0, jitter: 1) } == [1, 2, 4, 8, 16, 16].map { Duration.seconds($0) })
        #expect(policy.delay(beforeRetry: 3, jitter: 0.5) == .seconds(2))
        #expect(policy.delay(beforeRetry: 1_000, jitter: 1) == .seconds(16))
        #expect(policy.delay(beforeRetry: 1, retryAfter: .seconds(5), jitter: 1) == .seconds(5), "Retry-After asks for longer")
        #expect(policy.delay(beforeRetry: 1, retryAfter: .seconds(60), jitter: 1) == .seconds(16), "never past the cap")
        for retry in 1...5 {
            let delay = policy.delay(beforeRetry: retry)
            #expect(delay >= .seconds(1) * 0.5 && delay <= .seconds(16))
        }
    }

    @Test("which answers are worth another try")
    func retryable() {
        #expect(RetryPolicy.isRetryable(status: 429))
        #expect(RetryPolicy.isRetryable(status: 500) && RetryPolicy.isRetryable(status: 503))
        #expect(!RetryPolicy.isRetryable(status: 400) && !RetryPolicy.isRetryable(status: 401) && !RetryPolicy.isRetryable(status: 409))
        #expect(FintocClientError.timeout.isTransient)
        #expect(FintocClientError.transport("reset").isTransient)
        #expect(!FintocClientError.invalidRequest("x").isTransient)
    }
}
