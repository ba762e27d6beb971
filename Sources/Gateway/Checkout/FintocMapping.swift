import Fintoc
import Foundation
import PaymentsCore

/// How a storefront's checkout becomes a Fintoc object, and what of the answer we keep.
enum FintocMapping {
    /// Metadata keys the gateway adds so a Fintoc object (and its webhooks) lead back to us.
    static let orderKey = "cobro_order_id"
    static let checkoutKey = "cobro_checkout_id"

    /// The Fintoc idempotency key for a storefront request: derived from the storefront's own
    /// key, so a storefront retrying after a timeout reaches the same Fintoc object, never a
    /// second one. A session that names an existing customer sends another body than one with
    /// `customer_data`, so it gets a key of its own (Fintoc refuses one key with two bodies).
    static func idempotencyKey(storefront: Storefront, key: String, requestHash: Data, customer: String? = nil) -> String {
        var input = Data("\(storefront.keyID)\n\(key)\n".utf8) + requestHash
        if let customer { input += Data("\ncustomer=\(customer)".utf8) }
        return "cobro-" + IdempotencyStore.hash(input).hex.prefix(48)
    }

    /// The checkout id for a storefront request: a function of the same inputs, so the body sent
    /// to Fintoc on a retry is identical to the first and Fintoc replays instead of refusing.
    static func checkoutID(storefront: Storefront, key: String, requestHash: Data) -> String {
        "chk_" + IdempotencyStore.hash(Data("checkout\n\(storefront.keyID)\n\(key)\n".utf8) + requestHash).base62.prefix(20)
    }

    static func metadata(_ request: CheckoutRequest, checkoutID: String) -> Metadata {
        var metadata = request.metadata.mapValues { JSONValue.string($0) }
        metadata[orderKey] = .string(request.order.id.rawValue)
        metadata[checkoutKey] = .string(checkoutID)
        return metadata
    }

    static func sessionV2(_ request: CheckoutRequest, checkoutID: String, customer: CustomerReference = .data) -> CreateCheckoutSessionV2 {
        let order = request.order
        let currency = FintocCurrency(rawValue: order.currency.code)
        let options = request.options
        var customerData: CustomerData?
        if customer == .data {
            customerData = CustomerData(
                name: order.customer.name,
                email: order.customer.email,
                taxID: order.customer.taxID.map { FintocTaxID(type: $0.type.rawValue, value: $0.value) }
            )
        }
        return CreateCheckoutSessionV2(
            amount: order.amount,
            currency: currency,
            successURL: request.successURL,
            cancelURL: request.cancelURL,
            customerData: customerData,
            customer: customer.customerID,
            lineItems: order.lineItems.map { line in
                FintocLineItem(
                    quantity: line.quantity,
                    priceData: .init(currency: currency, unitAmount: line.unitAmount, productData: .init(name: line.name)))
            },
            paymentMethodTypes: options?.paymentMethodTypes?.map(\.rawValue),
            paymentMethodOptions: options?.senderInstitutionID.map { id in
                ["bank_transfer": ["sender_account": ["institution_id": ["value": .string(id)]]]]
            },
            businessProfile: options?.businessName.map { name in ["name": .string(name)] },
            metadata: metadata(request, checkoutID: checkoutID)
        )
    }

    static func sessionV1(_ request: CheckoutRequest, checkoutID: String) -> CreateCheckoutSessionV1 {
        CreateCheckoutSessionV1(
            amount: request.order.amount,
            currency: FintocCurrency(rawValue: request.order.currency.code),
            customerEmail: request.order.customer.email,
            metadata: metadata(request, checkoutID: checkoutID)
        )
    }

    /// `configuredRecipient` is `FINTOC_RECIPIENT_ACCOUNT`; the checkout's own account wins.
    static func paymentIntent(_ request: CheckoutRequest, checkoutID: String, configuredRecipient: BankAccount?) -> CreatePaymentIntent {
        CreatePaymentIntent(
            amount: request.order.amount,
            currency: FintocCurrency(rawValue: request.order.currency.code),
            customerEmail: request.order.customer.email,
            recipientAccount: request.options?.recipientAccount?.fintoc ?? configuredRecipient,
            metadata: metadata(request, checkoutID: checkoutID)
        )
    }
}

extension Data {
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Each byte mapped onto the 62 letters and digits (a slight bias is harmless for ids).
    var base62: String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        return String(decoding: map { alphabet[Int($0) % 62] }, as: UTF8.self)
    }
}
