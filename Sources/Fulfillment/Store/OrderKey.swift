import PaymentsCore

/// An order as the worker stores it: (storefront, order id), since two storefronts may both have
/// an order `1001`. An order that came in a version 1 event names no storefront and is stored
/// under the empty storefront.
struct OrderKey: Sendable, Hashable, CustomStringConvertible {
    let storefront: String
    let id: String

    init(_ order: OrderSnapshot) {
        storefront = order.storefront?.rawValue ?? ""
        id = order.id.rawValue
    }

    init(storefront: String, id: String) {
        self.storefront = storefront
        self.id = id
    }

    var description: String { storefront.isEmpty ? id : "\(storefront)/\(id)" }
}
