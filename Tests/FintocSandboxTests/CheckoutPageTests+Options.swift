import Fintoc
import FintocSandbox
import Foundation
import HummingbirdTesting
import Testing

/// The hosted page honours a v2 session's options (seed 002): a pre-selected bank skips the bank
/// list, `card` offers the card flow, `business_profile.name` is the recipient; and every text a
/// customer reads is Spanish. Plain HTTP, as a browser sends it.
extension CheckoutPageTests {
    /// A v2 session with the given extra JSON fields (e.g. `"payment_method_types": ["card"]`).
    static func session(_ client: any TestClientProtocol, _ extra: String, currency: String = "CLP") async throws -> String {
        let body =
            #"{"amount": 5000, "currency": "\#(currency)", "success_url": "https://merchant.example/ok/{CHECKOUT_SESSION_ID}", "cancel_url": "https://merchant.example/cart", \#(extra)}"#
        let answer = try await client.api(.post, "/v2/checkout_sessions", json: body)
        #expect(answer.status == .created, "\(answer.text)")
        return try #require(try answer.json()["id"]?.string)
    }

    static func preselecting(_ institution: String) -> String {
        #""payment_method_types": ["bank_transfer"], "payment_method_options": {"bank_transfer": {"sender_account": {"institution_id": {"value": "\#(institution)"}}}}"#
    }

    /// Posts the card form.
    static func card(
        _ client: any TestClientProtocol, _ id: String, number: String, expiry: String = "12/40", cvc: String = "123",
        holder: String = "Felipe Castro"
    ) async throws -> TestResponse {
        try await client.form("/checkout/\(id)/card", [("number", number), ("expiry", expiry), ("cvc", cvc), ("holder", holder)])
    }

    // MARK: Pre-selected bank

    @Test func aPreselectedBankSkipsTheBankListAndOnlyThatBankPays() async throws {
        try await withSandbox { client, store in
            let id = try await Self.session(client, Self.preselecting("cl_banco_estado"))
            let page = try await client.execute(uri: "/checkout/\(id)", method: .get)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"<h1 id="bank-name">BancoEstado</h1>"#))
            #expect(page.text.contains(#"name="password""#))
            #expect(page.text.contains(#"id="preselected""#))
            #expect(!page.text.contains("Elige tu banco"), "no bank list")
            #expect(!page.text.contains(#"type="radio" name="bank""#))
            // Another bank by URL still shows the pre-selected one; by form it is refused.
            let other = try await client.execute(uri: "/checkout/\(id)/login?bank=cl_banco_bci", method: .get)
            #expect(other.text.contains(#"<h1 id="bank-name">BancoEstado</h1>"#))
            let refused = try await client.form(
                "/checkout/\(id)/login", [("bank", "cl_banco_bci"), ("username", "41614850-3"), ("password", "jonsnow")])
            #expect(refused.status == .seeOther, "back to the pre-selected bank's login")
            #expect(await store.allEvents().isEmpty)

            let paid = try await Self.pay(client, base: "/checkout/\(id)", account: "813990168")
            #expect(paid.status == .seeOther)
            #expect(await store.allEvents().map(\.type) == [.paymentIntentSucceeded, .checkoutSessionFinished])
            let intent = try #require(try await store.allEvents().first?.paymentIntent())
            #expect(intent.senderAccount?.institutionID == "cl_banco_estado")
            #expect(intent.paymentType == "bank_transfer")
        }
    }

    @Test func anInstitutionTheSandboxDoesNotListIsShownByItsIdAndPays() async throws {
        try await withSandbox { client, store in
            let id = try await Self.session(client, Self.preselecting("cl_banco_nuevo"))
            let page = try await client.execute(uri: "/checkout/\(id)", method: .get)
            #expect(page.text.contains(#"<h1 id="bank-name">cl_banco_nuevo</h1>"#))
            #expect(page.text.contains(#"name="bank" value="cl_banco_nuevo""#))
            let paid = try await Self.pay(client, base: "/checkout/\(id)", account: "813990168", bank: "cl_banco_nuevo")
            #expect(paid.status == .seeOther)
            #expect(try await store.allEvents().first?.paymentIntent()?.senderAccount?.institutionID == "cl_banco_nuevo")

            // Mexico: the phone login, whatever the institution is called.
            let mexican = try await Self.session(client, Self.preselecting("mx_nuevo"), currency: "MXN")
            let login = try await client.execute(uri: "/checkout/\(mexican)", method: .get)
            #expect(login.text.contains(#"<h1 id="bank-name">mx_nuevo</h1>"#))
            #expect(login.text.contains("Número de celular"))
            let confirm = try await client.form("/checkout/\(mexican)/login", [("bank", "mx_nuevo"), ("username", "5555555555")])
            #expect(confirm.text.contains("Confirma tu pago"))
            #expect(confirm.text.contains("<td class=\"r\">mx_nuevo</td>"))
        }
    }

    // MARK: Card

    @Test func aCardOnlySessionOpensTheCardFormAndPaysWithTheSameWebhooks() async throws {
        try await withSandbox { client, store in
            let id = try await Self.session(client, #""payment_method_types": ["card"]"#)
            let page = try await client.execute(uri: "/checkout/\(id)", method: .get)
            #expect(page.text.contains(#"id="card-number""#))
            #expect(!page.text.contains("Elige tu banco"))
            #expect(!page.text.contains(#"id="other-method""#), "one method: nothing to go back to")
            let bankStep = try await client.execute(uri: "/checkout/\(id)/bank_transfer", method: .get)
            #expect(bankStep.status == .seeOther, "a card-only session offers no bank")
            let bankLogin = try await client.form(
                "/checkout/\(id)/login", [("bank", "cl_banco_estado"), ("username", "41614850-3"), ("password", "jonsnow")])
            #expect(bankLogin.status == .seeOther)

            let paid = try await Self.card(client, id, number: "4242 4242 4242 4242")
            #expect(paid.status == .seeOther)
            #expect(paid.headers[.location] == "https://merchant.example/ok/\(id)")
            #expect(await store.allEvents().map(\.type) == [.paymentIntentSucceeded, .checkoutSessionFinished])
            let intent = try #require(try await store.allEvents().first?.paymentIntent())
            #expect(intent.paymentType == "card")
            #expect(intent.senderAccount == nil)
            let session = try await client.api(.get, "/v2/checkout_sessions/\(id)").json()
            #expect(session["status"]?.string == "finished")
            #expect(session["payment_resource"]?["payment_intent"]?["payment_type"]?.string == "card")
            #expect(session["payment_resource"]?["payment_intent"]?["status"]?.string == "succeeded")
        }
    }

    @Test func theCardFormRefusesWhatACardFormWouldAndChangesNothing() async throws {
        try await withSandbox { client, store in
            let id = try await Self.session(client, #""payment_method_types": ["card"]"#)
            let refusals: [(number: String, expiry: String, cvc: String, holder: String, message: String)] = [
                ("4242 4242 4242 4241", "12/40", "123", "F", "El número de tarjeta no es válido."),
                ("4111 1111 1111 1111", "12/40", "123", "F", "Esta no es una tarjeta de prueba."),
                ("4242424242424242", "13/40", "123", "F", "La fecha de vencimiento debe tener la forma MM/AA."),
                ("4242424242424242", "1240", "123", "F", "La fecha de vencimiento debe tener la forma MM/AA."),
                ("4242424242424242", "01/20", "123", "F", "La tarjeta está vencida."),
                ("4242424242424242", "12/2099", "123", "F", "La fecha de vencimiento no es válida."),
                ("4242424242424242", "12/40", "12", "F", "El código de seguridad (CVC) debe tener 3 dígitos."),
                ("4242424242424242", "12/40", "12a", "F", "El código de seguridad (CVC) debe tener 3 dígitos."),
                ("4242424242424242", "12/40", "123", "  ", "Escribe el nombre que aparece en la tarjeta."),
            ]
            for refusal in refusals {
                let answer = try await Self.card(
                    client, id, number: refusal.number, expiry: refusal.expiry, cvc: refusal.cvc, holder: refusal.holder)
                #expect(answer.status == .ok)
                #expect(answer.text.contains(#"id="card-error""#), "\(refusal)")
                #expect(answer.text.contains(refusal.message), "\(refusal)")
                #expect(!answer.text.contains("value=\"\(refusal.cvc)\""), "the CVC is never echoed")
            }
            #expect(await store.allEvents().isEmpty)
            #expect(try await client.api(.get, "/v2/checkout_sessions/\(id)").json()["status"]?.string == "created")

            // A bank-only session takes no card.
            let bankOnly = try await Self.session(client, #""payment_method_types": ["bank_transfer"]"#)
            #expect(try await Self.card(client, bankOnly, number: "4242424242424242").status == .seeOther)
            #expect(try await client.execute(uri: "/checkout/\(bankOnly)/card", method: .get).status == .seeOther)
            #expect(await store.allEvents().isEmpty)
        }
    }

    @Test func testCardsGiveTheirDocumentedOutcomes() async throws {
        try await withSandbox { client, store in
            for card in TestValues.cards {
                let id = try await Self.session(client, #""payment_method_types": ["card"]"#)
                let before = await store.allEvents().count
                let answer = try await Self.card(client, id, number: card.number)
                let events = Array(await store.allEvents().dropFirst(before))
                let intent = try #require(try events.first?.paymentIntent(), "card \(card.number)")
                #expect(intent.paymentType == "card", "card \(card.number)")
                switch card.behavior {
                case .immediately(let outcome, let reason):
                    #expect(intent.status.rawValue == outcome.rawValue, "card \(card.number)")
                    #expect(intent.errorReason == reason, "card \(card.number)")
                    if [.failed, .rejected].contains(outcome) {
                        #expect(
                            events.map(\.type) == [Event.EventType(rawValue: "payment_intent.\(outcome.rawValue)")],
                            "the session stays open")
                        #expect(answer.status == .ok)
                        #expect(answer.text.contains("El pago no se pudo completar"))
                        #expect(answer.text.contains(#"id="retry""#))
                    } else {
                        #expect(events.map(\.type).last == .checkoutSessionFinished)
                        #expect(answer.status == .seeOther)
                    }
                case .pendingThenSucceeded:
                    #expect(events.prefix(2).map(\.type) == [.paymentIntentPending, .checkoutSessionFinished])
                    try await eventually("the card payment to settle") {
                        await store.allEvents().last(where: { $0.data["id"]?.stringValue == intent.id })?.type == .paymentIntentSucceeded
                    }
                }
            }
        }
    }

    @Test func aDeclinedCardCanBeRetriedWithAnother() async throws {
        try await withSandbox { client, store in
            let id = try await Self.session(client, #""payment_method_types": ["card"]"#)
            let declined = try await Self.card(client, id, number: "4000000000000002")
            #expect(declined.text.contains("El banco emisor rechazó la tarjeta."))
            #expect(try await client.execute(uri: "/checkout/\(id)", method: .get).text.contains(#"id="card-number""#), "still open")
            let paid = try await Self.card(client, id, number: "5555555555554444")
            #expect(paid.status == .seeOther)
            #expect(await store.allEvents().map(\.type) == [.paymentIntentFailed, .paymentIntentSucceeded, .checkoutSessionFinished])
            let intents = try await store.allEvents().prefix(2).map { try #require(try $0.paymentIntent()) }
            #expect(intents[0].id != intents[1].id, "a new attempt, a new payment intent")
            #expect(intents[0].errorReason == "card_declined")
        }
    }

    @Test func aSessionWithBothMethodsLetsTheCustomerChooseFirst() async throws {
        try await withSandbox { client, store in
            let id = try await Self.session(
                client,
                #""payment_method_types": ["bank_transfer", "card"], "payment_method_options": {"bank_transfer": {"sender_account": {"institution_id": {"value": "cl_banco_santander"}}}}"#
            )
            let choice = try await client.execute(uri: "/checkout/\(id)", method: .get)
            #expect(choice.text.contains("Elige cómo pagar"))
            #expect(choice.text.contains(#"id="method-bank_transfer" href="/checkout/\#(id)/bank_transfer""#))
            #expect(choice.text.contains(#"id="method-card" href="/checkout/\#(id)/card""#))
            let bank = try await client.execute(uri: "/checkout/\(id)/bank_transfer", method: .get)
            #expect(bank.text.contains(#"<h1 id="bank-name">Banco Santander</h1>"#), "the pre-selected bank, no list")
            #expect(bank.text.contains(#"id="other-method""#))
            let card = try await client.execute(uri: "/checkout/\(id)/card", method: .get)
            #expect(card.text.contains(#"id="card-number""#))
            #expect(card.text.contains(#"id="other-method""#))
            // A bank attempt started, then the customer pays by card: one attempt, paid by card.
            _ = try await client.form(
                "/checkout/\(id)/login", [("bank", "cl_banco_santander"), ("username", "41614850-3"), ("password", "jonsnow")])
            #expect(try await Self.card(client, id, number: "4242424242424242").status == .seeOther)
            #expect(await store.allEvents().map(\.type) == [.paymentIntentSucceeded, .checkoutSessionFinished])
            #expect(try await store.allEvents().first?.paymentIntent()?.paymentType == "card")
        }
    }

    // MARK: Business profile

    @Test func theBusinessProfileIsTheRecipientOnEveryStep() async throws {
        try await withSandbox { client, _ in
            let id = try await Self.session(
                client, #""business_profile": {"name": "Tienda <Ñandú>"}, "payment_method_types": ["bank_transfer", "card"]"#)
            let recipient = #"Para <b id="recipient">Tienda &lt;Ñandú&gt;</b>"#
            for path in ["", "/bank_transfer", "/login?bank=cl_banco_bci", "/card"] {
                let page = try await client.execute(uri: "/checkout/\(id)\(path)", method: .get)
                #expect(page.text.contains(recipient), "\(path)")
                #expect(!page.text.contains("Comercio de prueba"), "\(path)")
            }
            let login = try await client.form(
                "/checkout/\(id)/login", [("bank", "cl_banco_bci"), ("username", "41614850-3"), ("password", "jonsnow")])
            #expect(login.text.contains(recipient))
            let confirm = try await client.form("/checkout/\(id)/confirm", [("ticket", try Self.ticket(login)), ("account", "500000001")])
            #expect(confirm.text.contains(#"<td class="r" id="confirm-recipient">Tienda &lt;Ñandú&gt;</td>"#))
            let failed = try await client.form("/checkout/\(id)/pay", [("ticket", try Self.ticket(login)), ("account", "500000001")])
            #expect(failed.text.contains("Volver a Tienda &lt;Ñandú&gt;"))
            _ = try await Self.card(client, id, number: "4242424242424242")
            let closed = try await client.execute(uri: "/checkout/\(id)", method: .get)
            #expect(closed.status == .gone)
            #expect(closed.text.contains("Volver a Tienda &lt;Ñandú&gt;"))

            // Without a profile, the sandbox's own name.
            let plain = try await Self.session(client, #""metadata": {}"#)
            #expect(
                try await client.execute(uri: "/checkout/\(plain)", method: .get).text.contains(
                    #"Para <b id="recipient">Comercio de prueba</b>"#))
        }
    }
}
