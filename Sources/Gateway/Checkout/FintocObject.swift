import Foundation

/// What Fintoc made for a checkout.
struct FintocObject: Sendable {
    var providerID: String
    var paymentIntentID: String?
    var mode: String
    var redirectURL: String?
    var sessionToken: String?
    var widgetToken: String?
    var expiresAt: Date
    /// The Customer a hosted session was made for (`cus_…`), remembered by tax id.
    var customerID: String?
}
