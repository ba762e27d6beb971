import Fintoc
import Foundation
import PaymentsCore

/// Creating, reading and listing sessions and payment intents through the API.
extension SandboxStore {
    /// A hosted-page session. Everything is checked before anything is stored, so a refused
    /// request leaves no customer behind; the customer comes last, as the only part that can
    /// conflict with what exists (409 for a tax id already taken).
    func createSessionV2(_ body: BodyFields) throws(SandboxError) -> JSONValue {
        let amount = try body.requiredAmount()
        let currency = try body.requiredCurrency()
        let successURL = try body.url("success_url", required: true)
        let cancelURL = try body.url("cancel_url", required: true)
        let metadata = try body.metadata() ?? [:]
        let payer = try SessionCustomer.parse(body)
        let lineItems = try lineItems(from: body, currency: currency)
        let options = try CheckoutOptions.parse(body, currency: currency)
        let customer = try resolve(payer)

        let id = SandboxID.checkoutSession()
        let created = timestamp()
        var session = CheckoutSession(
            id: id, mode: .test, status: .created, amount: amount, currency: currency, createdAt: created,
            expiresAt: created.addingTimeInterval(configuration.sessionLifetime), successURL: successURL, cancelURL: cancelURL,
            redirectURL: "\(configuration.publicURL)/checkout/\(id)", customerEmail: customer?.email, customer: customer,
            lineItems: lineItems, paymentMethodTypes: options.paymentMethodTypes ?? ["bank_transfer"], metadata: metadata
        )
        session.paymentMethodOptions = options.paymentMethodOptions
        session.businessProfile = options.businessProfile
        let record = SessionRecord(session: session, flavor: .v2, tokenExpiresAt: nil, sequence: nextSequence())
        sessions[id] = record
        logger.debug("checkout session created", metadata: ["checkout_session_id": "\(id)", "flavor": "v2"])
        return Rendering.session(record, intent: nil)
    }

    func createSessionV1(_ body: BodyFields) throws(SandboxError) -> JSONValue {
        let amount = try body.requiredAmount()
        let currency = try body.requiredCurrency()
        let email = try body.email("customer_email")
        let successURL = try body.url("success_url", required: false)
        let cancelURL = try body.url("cancel_url", required: false)
        let metadata = try body.metadata() ?? [:]

        let id = SandboxID.checkoutSession()
        let created = timestamp()
        let expires = created.addingTimeInterval(configuration.tokenLifetime)
        let session = CheckoutSession(
            id: id, mode: .test, status: .created, amount: amount, currency: currency, createdAt: created, expiresAt: expires,
            successURL: successURL, cancelURL: cancelURL, sessionToken: SandboxID.token(for: id), customerEmail: email, metadata: metadata
        )
        let record = SessionRecord(session: session, flavor: .v1, tokenExpiresAt: expires, sequence: nextSequence())
        sessions[id] = record
        logger.debug("checkout session created", metadata: ["checkout_session_id": "\(id)", "flavor": "v1"])
        return Rendering.session(record, intent: nil)
    }

    func createIntent(_ body: BodyFields) throws(SandboxError) -> JSONValue {
        let amount = try body.requiredAmount()
        let currency = try body.requiredCurrency()
        let email = try body.email("customer_email")
        let metadata = try body.metadata() ?? [:]
        let recipient = try RecipientAccount.parse(body, currency: currency)
        let id = SandboxID.paymentIntent()
        let created = timestamp()
        let expires = created.addingTimeInterval(configuration.tokenLifetime)
        let intent = PaymentIntent(
            id: id, mode: .test, status: .created, amount: amount, currency: currency, createdAt: created, expiresAt: expires,
            widgetToken: SandboxID.token(for: id), customerEmail: email, recipientAccount: recipient, metadata: metadata
        )
        intents[id] = IntentRecord(intent: intent, sessionID: nil, tokenExpiresAt: expires, settleAt: nil, sequence: nextSequence())
        logger.debug("payment intent created", metadata: ["payment_intent_id": "\(id)"])
        return Rendering.intent(intent)
    }

    func sessionJSON(_ id: String) throws(SandboxError) -> JSONValue {
        guard let record = sessions[id] else { throw .missingResource("checkout_session", id: id) }
        return Rendering.session(record, intent: record.paymentIntentID.flatMap { intents[$0]?.intent })
    }

    func intentJSON(_ id: String) throws(SandboxError) -> JSONValue {
        guard let record = intents[id] else { throw .missingResource("payment_intent", id: id) }
        return Rendering.intent(record.intent)
    }

    /// Sessions of one API version, newest first, as `(id, json)` for cursor paging.
    func listSessions(_ flavor: SessionFlavor) -> [(id: String, json: JSONValue)] {
        sessions.values.filter { $0.flavor == flavor }.sorted { $0.sequence > $1.sequence }.map {
            ($0.session.id, Rendering.session($0, intent: $0.paymentIntentID.flatMap { intents[$0]?.intent }))
        }
    }

    func listIntents() -> [JSONValue] {
        intents.values.sorted { $0.sequence > $1.sequence }.map { Rendering.intent($0.intent) }
    }

    private func lineItems(from body: BodyFields, currency: FintocCurrency) throws(SandboxError) -> [FintocLineItem]? {
        guard let items = try body.array("line_items") else { return nil }
        var result: [FintocLineItem] = []
        for (index, item) in items.enumerated() {
            guard case .object(let object) = item else {
                throw .invalidParameter("line_items[\(index)]", "each line item must be an object.")
            }
            let line = BodyFields(object, prefix: "line_items[\(index)]")
            guard let quantity = try line.amount("quantity", allowZero: false) else { throw .missingParameter(line.name("quantity")) }
            guard let price = try line.nested("price_data") else { throw .missingParameter(line.name("price_data")) }
            let lineCurrency = try price.requiredCurrency()
            guard lineCurrency == currency else {
                throw .invalidParameter(
                    price.name("currency"), "every line item must be in the session's currency.", code: "invalid_currency")
            }
            guard let unitAmount = try price.amount("unit_amount", allowZero: true) else {
                throw .missingParameter(price.name("unit_amount"))
            }
            guard let product = try price.nested("product_data") else { throw .missingParameter(price.name("product_data")) }
            // Each factor is bounded, their product is not: refuse a line no integer can total.
            let (lineTotal, overflow) = quantity.multipliedReportingOverflow(by: unitAmount)
            guard !overflow, lineTotal <= BodyFields.maxAmount else {
                throw .invalidParameter(line.name("quantity"), "quantity × unit_amount is too large.", code: "invalid_amount")
            }
            result.append(
                FintocLineItem(
                    quantity: quantity,
                    priceData: .init(
                        currency: lineCurrency, unitAmount: unitAmount,
                        productData: .init(name: try product.requiredString("name"), imageURL: try product.string("image_url")))
                )
            )
        }
        return result
    }
}
