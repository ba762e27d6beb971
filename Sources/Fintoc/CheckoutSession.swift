import Foundation
import PaymentsCore

/// A Checkout Session (`cs_…`), in either API version.
///
/// v2 sessions (`/v2/checkout_sessions`) send the customer to `redirect_url`; v1 sessions
/// (`/v1/checkout_sessions`) open the embedded widget with `session_token`. Both end `finished`
/// or `expired`, and a finished session is not necessarily paid: read
/// `paymentResource.paymentIntent.status`.
public struct CheckoutSession: Sendable, Hashable, Codable, Identifiable {
    public struct Status: OpenEnum {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let created: Self = "created"
        public static let inProgress: Self = "in_progress"
        public static let finished: Self = "finished"
        public static let expired: Self = "expired"
        public static let known: [Self] = [.created, .inProgress, .finished, .expired]
    }

    /// The payment behind a session, once the customer started paying.
    public struct PaymentResource: Sendable, Hashable, Codable {
        public var paymentIntent: PaymentIntent?

        public init(paymentIntent: PaymentIntent?) {
            self.paymentIntent = paymentIntent
        }

        enum CodingKeys: String, CodingKey {
            case paymentIntent = "payment_intent"
        }
    }

    public var id: String
    public var object: String?
    public var mode: FintocMode?
    public var status: Status
    public var amount: Int64
    public var currency: FintocCurrency
    public var createdAt: Date?
    public var updatedAt: Date?
    public var expiresAt: Date?
    public var successURL: String?
    public var cancelURL: String?
    /// v2: the hosted checkout page.
    public var redirectURL: String?
    /// v1: opens the widget; lives 10 minutes.
    public var sessionToken: String?
    public var customerEmail: String?
    public var customer: FintocCustomer?
    public var lineItems: [FintocLineItem]?
    public var paymentMethodTypes: [String]?
    public var paymentMethodOptions: JSONValue?
    public var businessProfile: JSONValue?
    public var paymentResource: PaymentResource?
    public var metadata: Metadata?

    public init(
        id: String, mode: FintocMode, status: Status, amount: Int64, currency: FintocCurrency,
        createdAt: Date, expiresAt: Date?, successURL: String? = nil, cancelURL: String? = nil,
        redirectURL: String? = nil, sessionToken: String? = nil, customerEmail: String? = nil,
        customer: FintocCustomer? = nil, lineItems: [FintocLineItem]? = nil, paymentMethodTypes: [String]? = nil,
        paymentResource: PaymentResource? = nil, metadata: Metadata = [:]
    ) {
        self.id = id
        self.object = "checkout_session"
        self.mode = mode
        self.status = status
        self.amount = amount
        self.currency = currency
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.expiresAt = expiresAt
        self.successURL = successURL
        self.cancelURL = cancelURL
        self.redirectURL = redirectURL
        self.sessionToken = sessionToken
        self.customerEmail = customerEmail
        self.customer = customer
        self.lineItems = lineItems
        self.paymentMethodTypes = paymentMethodTypes
        self.paymentResource = paymentResource
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case id, object, mode, status, amount, currency, customer, metadata
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case expiresAt = "expires_at"
        case successURL = "success_url"
        case cancelURL = "cancel_url"
        case redirectURL = "redirect_url"
        case sessionToken = "session_token"
        case customerEmail = "customer_email"
        case lineItems = "line_items"
        case paymentMethodTypes = "payment_method_types"
        case paymentMethodOptions = "payment_method_options"
        case businessProfile = "business_profile"
        case paymentResource = "payment_resource"
    }
}

/// One line of a v2 session: quantity and price data with the product's name.
public struct FintocLineItem: Sendable, Hashable, Codable {
    public struct PriceData: Sendable, Hashable, Codable {
        public var currency: FintocCurrency
        public var unitAmount: Int64
        public var productData: ProductData

        public init(currency: FintocCurrency, unitAmount: Int64, productData: ProductData) {
            self.currency = currency
            self.unitAmount = unitAmount
            self.productData = productData
        }

        enum CodingKeys: String, CodingKey {
            case currency
            case unitAmount = "unit_amount"
            case productData = "product_data"
        }
    }

    public struct ProductData: Sendable, Hashable, Codable {
        public var name: String
        public var imageURL: String?

        public init(name: String, imageURL: String? = nil) {
            self.name = name
            self.imageURL = imageURL
        }

        enum CodingKeys: String, CodingKey {
            case name
            case imageURL = "image_url"
        }
    }

    public var quantity: Int64
    public var priceData: PriceData

    public init(quantity: Int64, priceData: PriceData) {
        self.quantity = quantity
        self.priceData = priceData
    }

    enum CodingKeys: String, CodingKey {
        case quantity
        case priceData = "price_data"
    }
}

/// The body of `POST /v2/checkout_sessions` (hosted page).
public struct CreateCheckoutSessionV2: Sendable, Hashable, Codable {
    public var amount: Int64
    public var currency: FintocCurrency
    public var successURL: String
    public var cancelURL: String
    public var customerData: CustomerData?
    /// An existing Customer's id, instead of `customerData`.
    public var customer: String?
    public var lineItems: [FintocLineItem]?
    public var paymentMethodTypes: [String]?
    public var paymentMethodOptions: JSONValue?
    public var businessProfile: JSONValue?
    public var metadata: Metadata?

    public init(
        amount: Int64, currency: FintocCurrency, successURL: String, cancelURL: String,
        customerData: CustomerData? = nil, customer: String? = nil, lineItems: [FintocLineItem]? = nil,
        paymentMethodTypes: [String]? = nil, paymentMethodOptions: JSONValue? = nil,
        businessProfile: JSONValue? = nil, metadata: Metadata? = nil
    ) {
        self.amount = amount
        self.currency = currency
        self.successURL = successURL
        self.cancelURL = cancelURL
        self.customerData = customerData
        self.customer = customer
        self.lineItems = lineItems
        self.paymentMethodTypes = paymentMethodTypes
        self.paymentMethodOptions = paymentMethodOptions
        self.businessProfile = businessProfile
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case amount, currency, customer, metadata
        case successURL = "success_url"
        case cancelURL = "cancel_url"
        case customerData = "customer_data"
        case lineItems = "line_items"
        case paymentMethodTypes = "payment_method_types"
        case paymentMethodOptions = "payment_method_options"
        case businessProfile = "business_profile"
    }
}

/// The body of `POST /v1/checkout_sessions` (embedded widget).
public struct CreateCheckoutSessionV1: Sendable, Hashable, Codable {
    public var amount: Int64
    public var currency: FintocCurrency
    public var customerEmail: String?
    public var successURL: String?
    public var cancelURL: String?
    public var metadata: Metadata?

    public init(
        amount: Int64, currency: FintocCurrency, customerEmail: String? = nil, successURL: String? = nil, cancelURL: String? = nil,
        metadata: Metadata? = nil
    ) {
        self.amount = amount
        self.currency = currency
        self.customerEmail = customerEmail
        self.successURL = successURL
        self.cancelURL = cancelURL
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case amount, currency, metadata
        case customerEmail = "customer_email"
        case successURL = "success_url"
        case cancelURL = "cancel_url"
    }
}
