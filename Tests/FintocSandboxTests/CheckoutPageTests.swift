import Fintoc
import FintocSandbox
import Foundation
import HummingbirdTesting
import Testing

/// The customer's side over plain HTTP: the same GETs and form posts a browser makes on the
/// hosted checkout page and in the widget.
@Suite struct CheckoutPageTests {
    /// The hidden login ticket in a page.
    static func ticket(_ page: TestResponse) throws -> String {
        let html = page.text
        let marker = #"name="ticket" value=""#
        let start = try #require(html.range(of: marker)).upperBound
        return String(html[start...].prefix { $0 != "\"" })
    }

    /// Bank → login → account → confirm → pay on `base` (`/checkout/cs_…` or `/widget/<token>`).
    static func pay(
        _ client: any TestClientProtocol, base: String, account: String, username: String = "41.614.850-3", bank: String = "cl_banco_estado"
    ) async throws -> TestResponse {
        let login = try await client.form("\(base)/login", [("bank", bank), ("username", username), ("password", "jonsnow")])
        #expect(login.status == .ok)
        let ticket = try ticket(login)
        let confirm = try await client.form("\(base)/confirm", [("ticket", ticket), ("account", account)])
        #expect(confirm.text.contains("Confirma tu pago"))
        return try await client.form("\(base)/pay", [("ticket", ticket), ("account", account)])
    }

    @Test func aPersonPaysOnTheHostedPageAndReturnsToSuccessURL() async throws {
        try await withSandbox { client, store in
            let session = try await client.createSessionV2(amount: 350_000)
            let id = session["id"]!.string!
            let path = try #require(URL(string: session["redirect_url"]!.string!)?.path)

            let banks = try await client.execute(uri: path, method: .get)
            #expect(banks.status == .ok)
            #expect(banks.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(banks.text.contains("$350.000"))
            #expect(banks.text.contains("Banco Santander"))
            let loginPage = try await client.execute(uri: "\(path)/login?bank=cl_banco_estado", method: .get)
            #expect(loginPage.text.contains("BancoEstado"))
            #expect(loginPage.text.contains(#"name="password""#))

            let paid = try await Self.pay(client, base: path, account: "813990168")
            #expect(paid.status == .seeOther)
            #expect(paid.headers[.location] == "https://merchant.example/success?session=\(id)")
            #expect(await store.allEvents().map(\.type) == [.paymentIntentSucceeded, .checkoutSessionFinished])
            let intent = try #require(try await store.allEvents().first?.paymentIntent())
            #expect(intent.senderAccount?.number == "813990168")
            #expect(intent.senderAccount?.institutionID == "cl_banco_estado")

            let after = try await client.execute(uri: path, method: .get)
            #expect(after.status == .gone)
            #expect(after.text.contains("Este pago ya terminó."))
        }
    }

    @Test func aWrongPasswordShowsALoginErrorAndChangesNothing() async throws {
        try await withSandbox { client, store in
            let id = try await client.createSessionV2()["id"]!.string!
            let wrong = try await client.form(
                "/checkout/\(id)/login", [("bank", "cl_banco_bci"), ("username", "41614850-3"), ("password", "arya")])
            #expect(wrong.status == .ok)
            #expect(wrong.text.contains("RUT o clave incorrectos."))
            let unknown = try await client.form(
                "/checkout/\(id)/login", [("bank", "cl_banco_bci"), ("username", "11111111-1"), ("password", "jonsnow")])
            #expect(unknown.text.contains("RUT o clave incorrectos."))
            #expect(await store.allEvents().isEmpty)
            #expect(try await client.api(.get, "/v2/checkout_sessions/\(id)").json()["status"]?.string == "created")
            let forged = try await client.form("/checkout/\(id)/pay", [("ticket", "forged"), ("account", "813990168")])
            #expect(forged.status == .badRequest)
            #expect(await store.allEvents().isEmpty)
        }
    }

    @Test func testAccountsGiveTheirDocumentedOutcomes() async throws {
        try await withSandbox { client, store in
            let table: [(String, [Event.EventType], String)] = [
                ("500000001", [.paymentIntentFailed], "insufficient_funds"),
                ("500000002", [.paymentIntentRejected], "mfa_invalid_authorization"),
                ("500000003", [.paymentIntentRequiresAction, .checkoutSessionFinished], ""),
                ("500000004", [.paymentIntentPending, .checkoutSessionFinished], ""),
            ]
            for (account, types, reason) in table {
                let id = try await client.createSessionV2()["id"]!.string!
                let before = await store.allEvents().count
                let answer = try await Self.pay(client, base: "/checkout/\(id)", account: account)
                let events = Array(await store.allEvents().dropFirst(before))
                #expect(events.map(\.type) == types, "account \(account)")
                #expect((try events.first?.paymentIntent()?.errorReason ?? "") == reason, "account \(account)")
                if types.count == 1 {
                    #expect(answer.status == .ok)
                    #expect(answer.text.contains("Intentar de nuevo"))
                } else {
                    #expect(answer.status == .seeOther)
                }
            }
        }
    }

    @Test func account422159212IsPendingThenSucceedsAfterAFewSeconds() async throws {
        try await withSandbox { client, store in
            let id = try await client.createSessionV2()["id"]!.string!
            let answer = try await Self.pay(client, base: "/checkout/\(id)", account: "422159212", username: "40427672-7")
            #expect(answer.status == .seeOther)
            // The first two, in this order: with the tests' 0.3 s settle delay, a loaded machine can
            // already have settled the payment by the time this line runs.
            #expect(await store.allEvents().prefix(2).map(\.type) == [.paymentIntentPending, .checkoutSessionFinished])
            try await eventually("the payment to settle") { await store.allEvents().count == 3 }
            #expect(await store.allEvents().last?.type == .paymentIntentSucceeded)
        }
    }

    @Test func aFailedAttemptCanBeRetriedAndCancelGoesBackToCancelURL() async throws {
        try await withSandbox { client, store in
            let id = try await client.createSessionV2()["id"]!.string!
            _ = try await Self.pay(client, base: "/checkout/\(id)", account: "500000001")
            let again = try await client.execute(uri: "/checkout/\(id)", method: .get)
            #expect(again.status == .ok, "the session stays open after a failed attempt")
            let paid = try await Self.pay(client, base: "/checkout/\(id)", account: "813990168", username: "41579263-8")
            #expect(paid.status == .seeOther)
            #expect(await store.allEvents().map(\.type) == [.paymentIntentFailed, .paymentIntentSucceeded, .checkoutSessionFinished])

            let other = try await client.createSessionV2()["id"]!.string!
            let cancel = try await client.form("/checkout/\(other)/cancel", [])
            #expect(cancel.status == .seeOther)
            #expect(cancel.headers[.location] == "https://merchant.example/cancel")
        }
    }

    @Test func mexicoPaysWithThePhoneNumber() async throws {
        try await withSandbox { client, store in
            let id = try await client.createSessionV2(amount: 350_000, currency: "MXN")["id"]!.string!
            let banks = try await client.execute(uri: "/checkout/\(id)", method: .get)
            #expect(banks.text.contains("$3,500.00"))
            #expect(banks.text.contains("BBVA"))
            let wrong = try await client.form("/checkout/\(id)/login", [("bank", "mx_bbva"), ("username", "5512345678")])
            #expect(wrong.text.contains("no está inscrito"))
            let login = try await client.form("/checkout/\(id)/login", [("bank", "mx_bbva"), ("username", "5555555555")])
            #expect(login.text.contains("Confirma tu pago"))
            let paid = try await client.form("/checkout/\(id)/pay", [("ticket", try Self.ticket(login)), ("account", "5555555555")])
            #expect(paid.status == .seeOther)
            // The first two, in this order: with the tests' 0.3 s settle delay, a loaded machine can
            // already have settled the payment by the time this line runs.
            #expect(await store.allEvents().prefix(2).map(\.type) == [.paymentIntentPending, .checkoutSessionFinished])
            try await eventually("the payment to settle") { await store.allEvents().last?.type == .paymentIntentSucceeded }
        }
    }

    @Test func theBusinessProfileNameIsShownAsTheRecipient() async throws {
        try await withSandbox { client, _ in
            let body =
                #"{"amount": 1000, "currency": "CLP", "success_url": "https://a.example/s", "cancel_url": "https://a.example/c", "business_profile": {"name": "Tienda <Ñandú>"}}"#
            let id = try await client.api(.post, "/v2/checkout_sessions", json: body).json()["id"]!.string!
            let page = try await client.execute(uri: "/checkout/\(id)", method: .get)
            #expect(page.text.contains(#"Para <b id="recipient">Tienda &lt;Ñandú&gt;</b>"#))
        }
    }

    @Test func unknownAndExpiredLinksShowAClearPage() async throws {
        try await withSandbox { client, _ in
            let missing = try await client.execute(uri: "/checkout/cs_nothing", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.text.contains("no existe"))
            let id = try await client.createSessionV2()["id"]!.string!
            _ = try await client.api(.post, "/v2/checkout_sessions/\(id)/expire")
            let expired = try await client.execute(uri: "/checkout/\(id)", method: .get)
            #expect(expired.status == .gone)
            #expect(expired.text.contains("Esta sesión de pago expiró."))
        }
    }

    @Test func theWidgetScriptAndWidgetFlowForBothTokens() async throws {
        try await withSandbox { client, store in
            let script = try await client.execute(uri: "/widget.js", method: .get)
            #expect(script.headers[.contentType]?.hasPrefix("application/javascript") == true)
            #expect(script.text.contains("window.Fintoc = { create: create }"))
            #expect(script.text.contains("onSuccess"))

            // widget_token (payment intent)
            let intent = try await client.createIntent(amount: 2476)
            let widgetToken = intent["widget_token"]!.string!
            let badKey = try await client.execute(uri: "/widget?public_key=pk_test_other&widget_token=\(widgetToken)", method: .get)
            #expect(badKey.status == .unauthorized)
            let open = try await client.execute(
                uri: "/widget?public_key=pk_test_sandbox&widget_token=\(widgetToken)&holder_type=individual&product=payments&country=cl",
                method: .get)
            #expect(open.status == .seeOther)
            #expect(open.headers[.location] == "/widget/\(widgetToken)")
            let banks = try await client.execute(uri: "/widget/\(widgetToken)", method: .get)
            #expect(banks.text.contains("$2.476"))
            #expect(banks.text.contains("on_bank_list"))
            let done = try await Self.pay(client, base: "/widget/\(widgetToken)", account: "813990168")
            #expect(done.status == .ok)
            #expect(done.text.contains("type:\"success\""))
            #expect(await store.allEvents().map(\.type) == [.paymentIntentSucceeded])

            // session_token (v1 session)
            let v1 = try await client.api(.post, "/v1/checkout_sessions", json: #"{"amount": 1200, "currency": "CLP"}"#).json()
            let sessionToken = v1["session_token"]!.string!
            let failed = try await Self.pay(client, base: "/widget/\(sessionToken)", account: "500000002")
            #expect(failed.text.contains("on_payment_error"))
            let exit = try await client.form("/widget/\(sessionToken)/cancel", [])
            #expect(exit.text.contains("type:\"exit\""))
            let paid = try await Self.pay(client, base: "/widget/\(sessionToken)", account: "813990168")
            #expect(paid.text.contains("type:\"success\""))
            let finished = try #require(try await store.allEvents().last?.checkoutSession())
            #expect(finished.status == .finished)
            let raw = await store.allEvents().last!.data
            #expect(raw["payment_intent"]?["status"]?.stringValue == "succeeded", "v1 sessions carry payment_intent at the top level")

            let unknown = try await client.execute(uri: "/widget/pi_nothing_sec_nothing", method: .get)
            #expect(unknown.status == .notFound)
            let odd = try await client.execute(uri: "/widget?public_key=pk_test_sandbox&widget_token=a%0D%0ALocation:%20x", method: .get)
            #expect(odd.status == .badRequest)
            #expect(odd.headers[.location] == nil)
        }
    }

    @Test func anExpiredWidgetTokenOpensNothing() async throws {
        try await withSandbox(testConfiguration(tokenLifetime: 0.2)) { client, _ in
            let token = try await client.createIntent()["widget_token"]!.string!
            try await Task.sleep(for: .milliseconds(300))
            let page = try await client.execute(uri: "/widget/\(token)", method: .get)
            #expect(page.status == .gone)
            #expect(page.text.contains("expiró"), "the token, or the payment it opens (as long-lived here)")
        }
    }

    // MARK: One language

    /// English words no Spanish page contains: function words (nearly every English sentence
    /// has some, and none is a Spanish word) and the flow's own nouns. Matched as whole words,
    /// so "Santander" never counts as "and". scripts/sandbox-browser-check.py uses the same list.
    static let englishWords: Set<String> = [
        "the", "an", "your", "you", "to", "and", "of", "with", "is", "are", "was", "this", "that", "page", "for", "from",
        "not", "please", "in", "on", "at", "by", "or", "it", "be", "can", "must", "has", "been", "already", "again",
        "payment", "bank", "account", "password", "phone", "test", "mode", "invalid", "unknown", "expired", "choose", "log",
    ]

    /// The English words among what a page shows: its title and text, without markup, scripts or
    /// styles (placeholders and values hold only test data).
    static func englishShown(_ html: String) throws -> Set<String> {
        var text = html
        for pattern in [#"<script[\s\S]*?</script>"#, #"<style[\s\S]*?</style>"#, #"<[^>]*>"#] {
            text = text.replacing(try Regex(pattern), with: " ")
        }
        return Set(text.split { !$0.isLetter }.map { $0.lowercased() }).intersection(englishWords)
    }

    static func expectSpanish(_ page: TestResponse, _ what: String) throws {
        #expect(page.text.contains(#"<html lang="es">"#), "\(what)")
        let english = try englishShown(page.text)
        #expect(english.isEmpty, "\(what) shows English: \(english.sorted())")
    }

    @Test func everyPageACustomerSeesIsSpanish() async throws {
        try await withSandbox { client, _ in
            let both = try await Self.session(client, #""payment_method_types": ["bank_transfer", "card"]"#)
            try Self.expectSpanish(try await client.execute(uri: "/checkout/\(both)", method: .get), "the choice of method")
            try Self.expectSpanish(try await client.execute(uri: "/checkout/\(both)/bank_transfer", method: .get), "the bank list")
            try Self.expectSpanish(try await client.execute(uri: "/checkout/\(both)/login?bank=cl_banco_bci", method: .get), "the login")
            try Self.expectSpanish(
                try await client.form("/checkout/\(both)/login", [("bank", "cl_banco_bci"), ("username", "1-9"), ("password", "x")]),
                "a login error")
            try Self.expectSpanish(try await client.execute(uri: "/checkout/\(both)/card", method: .get), "the card form")
            try Self.expectSpanish(try await Self.card(client, both, number: "1234"), "a card error")
            try Self.expectSpanish(try await Self.card(client, both, number: "4000000000000002"), "a declined card")
            let login = try await client.form(
                "/checkout/\(both)/login", [("bank", "cl_banco_bci"), ("username", "41614850-3"), ("password", "jonsnow")])
            try Self.expectSpanish(login, "the accounts")
            let ticket = try Self.ticket(login)
            try Self.expectSpanish(
                try await client.form("/checkout/\(both)/confirm", [("ticket", ticket), ("account", "500000002")]), "the confirmation")
            try Self.expectSpanish(
                try await client.form("/checkout/\(both)/pay", [("ticket", ticket), ("account", "500000002")]), "a rejected payment")
            try Self.expectSpanish(
                try await client.form("/checkout/\(both)/pay", [("ticket", "forged"), ("account", "813990168")]), "a forged ticket")
            _ = try await Self.card(client, both, number: "4242424242424242")
            try Self.expectSpanish(try await client.execute(uri: "/checkout/\(both)", method: .get), "a finished session")
            let expired = try await client.createSessionV2()["id"]!.string!
            _ = try await client.api(.post, "/v2/checkout_sessions/\(expired)/expire")
            try Self.expectSpanish(try await client.execute(uri: "/checkout/\(expired)", method: .get), "an expired session")
            try Self.expectSpanish(try await client.execute(uri: "/checkout/cs_nothing", method: .get), "an unknown session")

            let mexican = try await client.createSessionV2(currency: "MXN")["id"]!.string!
            try Self.expectSpanish(try await client.execute(uri: "/checkout/\(mexican)", method: .get), "the Mexican bank list")
            try Self.expectSpanish(
                try await client.form("/checkout/\(mexican)/login", [("bank", "mx_bbva"), ("username", "1")]), "a Mexican login error")

            let token = try await client.createIntent()["widget_token"]!.string!
            try Self.expectSpanish(
                try await client.execute(uri: "/widget?public_key=pk_test_other&widget_token=\(token)", method: .get), "a wrong public key")
            try Self.expectSpanish(
                try await client.execute(uri: "/widget?public_key=sk_test_sandbox&widget_token=\(token)", method: .get),
                "a secret key in the widget")
            try Self.expectSpanish(try await client.execute(uri: "/widget?public_key=pk_test_sandbox", method: .get), "no token")
            try Self.expectSpanish(try await client.execute(uri: "/widget/\(token)", method: .get), "the widget's bank list")
            try Self.expectSpanish(try await client.form("/widget/\(token)/cancel", []), "the widget cancelled")
            try Self.expectSpanish(try await Self.pay(client, base: "/widget/\(token)", account: "813990168"), "the widget paid")
            try Self.expectSpanish(try await client.execute(uri: "/widget/\(token)", method: .get), "a paid widget token")
            try Self.expectSpanish(try await client.execute(uri: "/widget/pi_nothing_sec_nothing", method: .get), "an unknown widget token")
            let pending = try await client.createIntent()["widget_token"]!.string!
            try Self.expectSpanish(
                try await Self.pay(client, base: "/widget/\(pending)", account: "500000003"), "the widget awaiting approval")
        }
    }
}
