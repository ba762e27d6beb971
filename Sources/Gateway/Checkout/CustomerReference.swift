import Foundation

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
