import Foundation

/// A customer's tax identifier, `{type: cl_rut|mx_rfc, value}`.
///
/// Fintoc stores the value normalised (a RUT without dots or hyphen, an RFC upper case) and
/// answers it that way; `PaymentsCore`'s `ChileanRUT.normalized` and `MexicanRFC.normalized`
/// give the same form, to compare a storefront's tax id with a customer's.
public struct FintocTaxID: Sendable, Hashable, Codable {
    public static let chileanRUT = "cl_rut"
    public static let mexicanRFC = "mx_rfc"

    public var type: String
    public var value: String

    public init(type: String, value: String) {
        self.type = type
        self.value = value
    }
}

/// The Customer object Fintoc answers with (`cus_…`, Customers API v2), also embedded as a
/// checkout session's `customer`.
///
/// At most one customer per mode has a given tax id: a session's `customer_data` (or a
/// `POST /v2/customers`) with a tax id already taken answers 409, and the caller sends the
/// existing customer's id in `customer` instead (find it with `customers(query:)` and `tax_id`).
public struct FintocCustomer: Sendable, Hashable, Codable {
    /// A postal address; Fintoc returns only the fields that have a value.
    public struct Address: Sendable, Hashable, Codable {
        public var line1: String?
        public var line2: String?
        public var city: String?
        public var state: String?
        public var postalCode: String?
        /// ISO 3166-1 alpha-2, lower case (`cl`, `mx`).
        public var country: String?

        public init(
            line1: String? = nil, line2: String? = nil, city: String? = nil, state: String? = nil, postalCode: String? = nil,
            country: String? = nil
        ) {
            self.line1 = line1
            self.line2 = line2
            self.city = city
            self.state = state
            self.postalCode = postalCode
            self.country = country
        }

        enum CodingKeys: String, CodingKey {
            case line1, line2, city, state, country
            case postalCode = "postal_code"
        }
    }

    public var id: String?
    public var object: String?
    public var mode: FintocMode?
    public var name: String?
    /// Stored lower case by Fintoc.
    public var email: String?
    public var taxID: FintocTaxID?
    /// E.164, e.g. `+56912345678`.
    public var phone: String?
    public var address: Address?
    public var metadata: Metadata?
    public var createdAt: Date?

    public init(
        id: String?, mode: FintocMode? = nil, name: String?, email: String?, taxID: FintocTaxID?, phone: String? = nil,
        address: Address? = nil, metadata: Metadata? = [:], createdAt: Date? = nil
    ) {
        self.id = id
        self.object = "customer"
        self.mode = mode
        self.name = name
        self.email = email
        self.taxID = taxID
        self.phone = phone
        self.address = address
        self.metadata = metadata
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, object, mode, name, email, phone, address, metadata
        case taxID = "tax_id"
        case createdAt = "created_at"
    }
}

/// The body of `POST /v2/customers`: at least one of `email` and `taxID`.
public struct CreateCustomer: Sendable, Hashable, Codable {
    public var email: String?
    public var taxID: FintocTaxID?
    public var name: String?
    /// E.164, e.g. `+56912345678`.
    public var phone: String?
    public var address: FintocCustomer.Address?
    public var metadata: Metadata?

    public init(
        email: String? = nil, taxID: FintocTaxID? = nil, name: String? = nil, phone: String? = nil,
        address: FintocCustomer.Address? = nil, metadata: Metadata? = nil
    ) {
        self.email = email
        self.taxID = taxID
        self.name = name
        self.phone = phone
        self.address = address
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case email, name, phone, address, metadata
        case taxID = "tax_id"
    }
}

/// `customer_data` of a v2 session create: Fintoc makes the Customer from it, unless one with
/// the same tax id exists (409: send `customer` with its id instead).
public struct CustomerData: Sendable, Hashable, Codable {
    public var name: String?
    public var email: String?
    public var taxID: FintocTaxID?
    public var metadata: Metadata?

    public init(name: String? = nil, email: String? = nil, taxID: FintocTaxID? = nil, metadata: Metadata? = nil) {
        self.name = name
        self.email = email
        self.taxID = taxID
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case name, email, metadata
        case taxID = "tax_id"
    }
}
