import Fintoc
import Foundation
import PaymentsCore

/// Who pays a v2 session: nobody named, an existing customer (`customer: "cus_…"`), or a new
/// one (`customer_data`). Sending both is refused: Fintoc could not tell which one is meant.
enum SessionCustomer: Sendable {
    case none
    case existing(String)
    case new(CustomerFields)

    static func parse(_ body: BodyFields) throws(SandboxError) -> SessionCustomer {
        let id = try body.string("customer")
        let data = try body.nested("customer_data")
        switch (id, data) {
        case (.some, .some):
            throw .invalidParameter(
                "customer", "Send either customer (the id of an existing customer) or customer_data (a new customer), not both.")
        case (let id?, nil): return .existing(id)
        case (nil, let data?): return .new(try CustomerFields.parse(data))
        case (nil, nil): return .none
        }
    }
}

/// The Customers API v2 (`/v2/customers`), and the customers sessions make or reuse.
///
/// At most one customer per mode has a given tax id; its normalised form is the key, so
/// `11.111.111-1` and `111111111` are the same customer.
extension SandboxStore {
    func createCustomer(_ body: BodyFields) throws(SandboxError) -> JSONValue {
        let fields = try CustomerFields.parse(body)
        try requireFreeTaxID(fields, hint: "Find it with GET /v2/customers?tax_id=… and use its id.")
        return Rendering.customer(insertCustomer(fields))
    }

    func customerJSON(_ id: String) throws(SandboxError) -> JSONValue {
        guard let record = customers[id] else { throw .missingResource("customer", id: id) }
        return Rendering.customer(record.customer)
    }

    /// Customers newest first, as `(id, json)` for cursor paging, keeping those whose tax id
    /// matches `taxID` (a RUT with or without dots and hyphen, an RFC in any case; without
    /// `taxIDType` either kind may match) and whose tax id is of `taxIDType`.
    func listCustomers(taxID: String?, taxIDType: String?) throws(SandboxError) -> [(id: String, json: JSONValue)] {
        if let taxIDType, TaxID.Kind(rawValue: taxIDType) == nil {
            throw .invalidParameter("tax_id_type", "tax_id_type must be cl_rut or mx_rfc.")
        }
        return customers.values
            .filter { record in
                guard taxID != nil || taxIDType != nil else { return true }
                guard let stored = record.customer.taxID else { return false }
                if let taxIDType, stored.type != taxIDType { return false }
                guard let taxID else { return true }
                switch TaxID.Kind(rawValue: stored.type) {
                case .clRUT: return ChileanRUT.compacted(taxID) == ChileanRUT.compacted(stored.value)
                case .mxRFC: return taxID.trimmingCharacters(in: .whitespaces).uppercased() == stored.value.uppercased()
                case nil: return false
                }
            }
            .sorted { $0.sequence > $1.sequence }
            .map { ($0.customer.id ?? "", Rendering.customer($0.customer)) }
    }

    /// The customer a v2 session names, made now for `customer_data`. Called once everything
    /// else in the request is valid, so a refused session leaves no customer behind.
    func resolve(_ choice: SessionCustomer) throws(SandboxError) -> FintocCustomer? {
        switch choice {
        case .none:
            return nil
        case .existing(let id):
            guard let record = customers[id] else { throw .missingResource("customer", id: id, param: "customer") }
            return record.customer
        case .new(let fields):
            try requireFreeTaxID(fields, hint: "To reuse it, send its id in customer instead of customer_data.")
            return insertCustomer(fields)
        }
    }

    /// 409 `customer_already_exists` when a customer of this mode already has the tax id.
    private func requireFreeTaxID(_ fields: CustomerFields, hint: String) throws(SandboxError) {
        guard let key = Self.taxKey(fields.taxID), let existing = customerIDsByTaxID[key] else { return }
        throw SandboxError(
            status: .conflict, type: .invalidRequestError, code: "customer_already_exists",
            message: "A customer with this tax_id already exists (\(existing)). \(hint)", param: fields.taxIDParam
        )
    }

    private func insertCustomer(_ fields: CustomerFields) -> FintocCustomer {
        let id = SandboxID.customer()
        let customer = FintocCustomer(
            id: id, mode: .test, name: fields.name, email: fields.email, taxID: fields.taxID, phone: fields.phone,
            address: fields.address, metadata: fields.metadata, createdAt: timestamp()
        )
        customers[id] = CustomerRecord(customer: customer, sequence: nextSequence())
        if let key = Self.taxKey(fields.taxID) { customerIDsByTaxID[key] = id }
        logger.debug("customer created", metadata: ["customer_id": "\(id)"])
        return customer
    }

    /// One key per person: the normalised tax id (any spelling of one RUT or RFC gives the same).
    /// The sandbox is test mode only, so every key is a test-mode one.
    private static func taxKey(_ taxID: FintocTaxID?) -> String? {
        guard let taxID, let kind = TaxID.Kind(rawValue: taxID.type), let normalized = TaxID(type: kind, value: taxID.value).normalizedValue
        else { return nil }
        return "\(FintocMode.test.rawValue)|\(taxID.type)|\(normalized)"
    }
}
