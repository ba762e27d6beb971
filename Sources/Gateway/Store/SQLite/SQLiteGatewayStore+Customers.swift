import Foundation
import GRDB
import PaymentsCore

/// The gateway's memory of Fintoc Customers (by mode and normalised tax id) and of the customer
/// reference each storefront request chose, so its retries send the same body.
/// See `CustomerReference` and `HostedSessions` for why.
extension SQLiteGatewayStore {
    /// The reference a request sends: the one it sent before, else a customer known for its tax
    /// id, else `customer_data`; recorded before it is used.
    func customerReference(checkoutID: String, mode: String, taxID: TaxID, normalized: String, now: Date) async throws -> CustomerReference
    {
        try await pool.write { db in
            if let choice = try CustomerChoiceRecord.fetchOne(db, key: checkoutID) {
                return choice.customerID.map(CustomerReference.existing) ?? .data
            }
            let known = try FintocCustomerRecord.fetchOne(
                db, key: ["mode": mode, "tax_id_type": taxID.type.rawValue, "tax_id": normalized])
            try CustomerChoiceRecord(checkoutID: checkoutID, customerID: known?.customerID, createdAt: now).insert(db)
            return known.map { .existing($0.customerID) } ?? .data
        }
    }

    /// The request moves to `reference` (after Fintoc refused its `customer_data`, or forgot a
    /// customer), before it is sent.
    func chooseCustomer(_ reference: CustomerReference, checkoutID: String, now: Date) async throws {
        try await pool.write { db in
            try CustomerChoiceRecord(checkoutID: checkoutID, customerID: reference.customerID, createdAt: now).upsert(db)
        }
    }

    /// Forgets a customer Fintoc says does not exist, and the request's choice of it.
    func forgetCustomer(customerID: String, checkoutID: String) async throws {
        _ = try await pool.write { db in
            try FintocCustomerRecord.filter(FintocCustomerRecord.Columns.customerID == customerID).deleteAll(db)
            try CustomerChoiceRecord.deleteOne(db, key: checkoutID)
        }
    }

    /// In the transaction that records the checkout: remember its customer, and drop the choice
    /// (a retry of the request is now answered from the gateway's own records).
    static func customerRecorded(checkoutID: String, mode: String, taxID: TaxID?, customerID: String?, now: Date, in db: Database) throws {
        try CustomerChoiceRecord.deleteOne(db, key: checkoutID)
        guard let taxID, let normalized = taxID.normalizedValue, let customerID else { return }
        try FintocCustomerRecord(mode: mode, taxIDType: taxID.type.rawValue, taxID: normalized, customerID: customerID, updatedAt: now)
            .upsert(db)
    }

    /// Deletes choices made before `cutoff`; returns how many. Past Fintoc's idempotency window a
    /// retry would make a new session whatever is sent, so they no longer protect anything.
    func pruneCustomerChoices(createdBefore cutoff: Date) async throws -> Int {
        try await pool.write { db in
            try CustomerChoiceRecord.filter(CustomerChoiceRecord.Columns.createdAt < cutoff).deleteAll(db)
        }
    }
}
