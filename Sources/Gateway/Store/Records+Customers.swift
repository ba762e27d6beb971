import Foundation
import GRDB

/// A Fintoc Customer the gateway learned, by mode and normalised tax id.
struct FintocCustomerRecord: GatewayRecord {
    static let databaseTableName = "fintoc_customer"

    var mode: String
    var taxIDType: String
    /// `TaxID.normalizedValue`: one spelling per person.
    var taxID: String
    var customerID: String
    var updatedAt: Date

    enum Columns {
        static let customerID = Column("customer_id")
    }
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

    var checkoutID: String
    /// Nil: `customer_data`.
    var customerID: String?
    var createdAt: Date

    enum Columns {
        static let createdAt = Column("created_at")
    }
}
