import Foundation
import GRDB
import PaymentsCore

/// How a hosted checkout (a v2 session) names its customer to Fintoc.
///
/// Seed 002: "If a Customer with the same tax_id already exists, the request returns a 409
/// Conflict error. To reuse an existing Customer, send its id in customer instead of
/// customer_data." So a returning customer must be named by id.
enum CustomerReference: Sendable, Hashable {
    /// `customer_data`: Fintoc makes a Customer from the order's customer.
    case data
    /// `customer: "cus_…"`: a Customer Fintoc already has.
    case existing(String)

    var customerID: String? {
        if case .existing(let id) = self { return id }
        return nil
    }
}

/// A Fintoc Customer the gateway learned, by mode and normalised tax id.
struct FintocCustomerRecord: GatewayRecord {
    static let databaseTableName = "fintoc_customer"

    var mode: String
    var taxIdType: String
    /// `TaxID.normalizedValue`: one spelling per person.
    var taxId: String
    var customerId: String
    var updatedAt: Date
}

/// Which reference a storefront request used at Fintoc, kept from before the first Fintoc call
/// until the checkout is recorded.
///
/// The Fintoc idempotency key is derived from what is sent, so a retry must send what the first
/// try sent. Without this row, a retry could find a customer learned meanwhile from another order
/// and send `customer` where the first try sent `customer_data` (which Fintoc may have answered
/// with a session the gateway never recorded): a second session for one request.
struct CustomerChoiceRecord: GatewayRecord {
    static let databaseTableName = "checkout_customer_choice"

    var checkoutId: String
    /// Nil: `customer_data`.
    var customerId: String?
    var createdAt: Date
}

/// The gateway's memory of Fintoc Customers and of each request's choice, over its database.
struct FintocCustomers: Sendable {
    let database: GatewayDatabase

    /// The reference a request sends: the one it sent before, else a customer known for its tax
    /// id, else `customer_data`; recorded before it is used.
    func reference(checkoutID: String, mode: String, taxID: TaxID, normalized: String, now: Date) async throws -> CustomerReference {
        try await database.pool.write { db in
            if let choice = try CustomerChoiceRecord.fetchOne(db, key: checkoutID) {
                return choice.customerId.map(CustomerReference.existing) ?? .data
            }
            let known = try FintocCustomerRecord.fetchOne(db, key: ["mode": mode, "tax_id_type": taxID.type.rawValue, "tax_id": normalized])
            try CustomerChoiceRecord(checkoutId: checkoutID, customerId: known?.customerId, createdAt: now).insert(db)
            return known.map { .existing($0.customerId) } ?? .data
        }
    }

    /// The request moves to `reference` (after Fintoc refused its `customer_data`, or forgot a
    /// customer), before it is sent.
    func choose(_ reference: CustomerReference, checkoutID: String, now: Date) async throws {
        try await database.pool.write { db in
            try CustomerChoiceRecord(checkoutId: checkoutID, customerId: reference.customerID, createdAt: now).upsert(db)
        }
    }

    /// Forgets a customer Fintoc says does not exist, and the request's choice of it.
    func forget(customerID: String, checkoutID: String) async throws {
        _ = try await database.pool.write { db in
            try FintocCustomerRecord.filter(Column("customer_id") == customerID).deleteAll(db)
            try CustomerChoiceRecord.deleteOne(db, key: checkoutID)
        }
    }

    /// In the transaction that records the checkout: remember its customer, and drop the choice
    /// (a retry of the request is now answered from the gateway's own records).
    static func recorded(checkoutID: String, mode: String, taxID: TaxID?, customerID: String?, now: Date, in db: Database) throws {
        try CustomerChoiceRecord.deleteOne(db, key: checkoutID)
        guard let taxID, let normalized = taxID.normalizedValue, let customerID else { return }
        try FintocCustomerRecord(mode: mode, taxIdType: taxID.type.rawValue, taxId: normalized, customerId: customerID, updatedAt: now).upsert(db)
    }

    /// Choices older than Fintoc's idempotency window: a retry after it would make a new session
    /// whatever is sent, so they no longer protect anything.
    func purgeChoices(olderThan cutoff: Date) async throws -> Int {
        try await database.pool.write { db in
            try CustomerChoiceRecord.filter(Column("created_at") < cutoff).deleteAll(db)
        }
    }
}
