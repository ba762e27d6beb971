import Fintoc
import PaymentsCore

/// A customer as `POST /v2/customers` or a session's `customer_data` describes it, checked and
/// normalised the way Fintoc stores it: the email lower case, a RUT without dots or hyphen, an
/// RFC upper case, the address country lower case.
struct CustomerFields: Sendable {
    var email: String?
    var taxID: FintocTaxID?
    var name: String?
    var phone: String?
    var address: FintocCustomer.Address?
    var metadata: Metadata
    /// Where the tax id was sent (`tax_id`, `customer_data.tax_id`): the `param` of a 409.
    var taxIDParam: String

    static let addressKeys = ["line1", "line2", "city", "state", "postal_code", "country"]

    static func parse(_ body: BodyFields) throws(SandboxError) -> CustomerFields {
        var taxID: FintocTaxID?
        if let tax = try body.nested("tax_id") {
            taxID = try parseTaxID(tax)
        }
        let email = try body.email("email")?.lowercased()
        guard taxID != nil || email != nil else {
            throw SandboxError(
                status: .badRequest, type: .invalidRequestError, code: "missing_parameter",
                message: "At least one of \(body.name("email")) or \(body.name("tax_id")) is required.", param: body.name("email")
            )
        }
        let name = try body.string("name")
        var phone: String?
        if let text = try body.string("phone") {
            guard isE164(text) else {
                throw .invalidParameter(
                    body.name("phone"), "\(body.name("phone")) must be a phone number in E.164 format, e.g. +56912345678.",
                    code: "invalid_phone")
            }
            phone = text
        }
        return CustomerFields(
            email: email, taxID: taxID, name: name?.isEmpty == true ? nil : name, phone: phone,
            address: try parseAddress(body), metadata: try body.metadata() ?? [:], taxIDParam: body.name("tax_id")
        )
    }

    /// `{type, value}` with both required; the value must be a RUT (check digit right, dots and
    /// hyphen optional) or an RFC. It is kept as written, as seed 002's answers show it
    /// (`11.111.111-1` comes back as sent); customers are matched by its normalised form.
    static func parseTaxID(_ tax: BodyFields) throws(SandboxError) -> FintocTaxID {
        let type = try tax.requiredString("type")
        guard let kind = TaxID.Kind(rawValue: type) else {
            throw .invalidParameter(tax.name("type"), "\(tax.name("type")) must be cl_rut or mx_rfc.")
        }
        let value = try tax.requiredString("value")
        switch kind {
        case .clRUT:
            guard ChileanRUT.normalized(value) != nil else {
                throw .invalidParameter(
                    tax.name("value"), "\(tax.name("value")) must be a RUT with its check digit, e.g. 11.111.111-1 or 111111111.",
                    code: "invalid_tax_id")
            }
            return FintocTaxID(type: type, value: value)
        case .mxRFC:
            guard MexicanRFC.normalized(value) != nil else {
                throw .invalidParameter(
                    tax.name("value"), "\(tax.name("value")) must be an RFC: 3 or 4 letters, a YYMMDD date and a 3-character homoclave.",
                    code: "invalid_tax_id")
            }
            return FintocTaxID(type: type, value: value)
        }
    }

    /// Each field a string; empty ones are left out, and no field at all is no address (`null`).
    static func parseAddress(_ body: BodyFields) throws(SandboxError) -> FintocCustomer.Address? {
        guard let fields = try body.nested("address") else { return nil }
        var values: [String: String] = [:]
        for key in addressKeys {
            if let text = try fields.string(key), !text.isEmpty { values[key] = text }
        }
        if let country = values["country"] {
            guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw .invalidParameter(
                    fields.name("country"), "\(fields.name("country")) must be a two-letter country code (ISO 3166-1 alpha-2), e.g. cl.")
            }
            values["country"] = country.lowercased()
        }
        guard !values.isEmpty else { return nil }
        return FintocCustomer.Address(
            line1: values["line1"], line2: values["line2"], city: values["city"], state: values["state"],
            postalCode: values["postal_code"], country: values["country"]
        )
    }

    /// `+`, then 2 to 15 digits, the first not zero.
    static func isE164(_ text: String) -> Bool {
        guard text.first == "+" else { return false }
        let digits = text.dropFirst()
        return (2...15).contains(digits.count) && digits.first != "0" && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
