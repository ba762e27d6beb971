import Foundation

/// The fulfillment-worker's own events on the `fulfillment.events` topic exchange: what became of
/// a paid order's stock. Part of the public contract (`schemas/events/order.*.v1.json`), so other
/// teams (shipping, customer service) can act on them without calling back.
public enum FulfillmentEventType: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every line of the paid order was covered by stock and sold.
    case orderConfirmed = "order.confirmed"
    /// The paid order could not be covered in full: no stock was taken, the shortfall is listed.
    case orderBackordered = "order.backordered"

    public var routingKey: String { rawValue }
    /// The version of `data` the worker writes: 2 since order ids are scoped per storefront
    /// (`data.order.storefront` required), as for the gateway's events.
    public static let currentVersion = 2
    public func dataSchema(version: Int) -> String { "\(EventContract.schemaBaseURL)events/\(rawValue).v\(version).json" }
    public var dataSchema: String { dataSchema(version: Self.currentVersion) }
}

extension EventContract {
    /// The CloudEvents `source` of everything the worker publishes.
    public static let workerSource = "/cobro/fulfillment-worker"
}

/// The `data` of `order.confirmed` and `order.backordered`.
public struct OrderFulfillment: Sendable, Hashable, Codable {
    /// One line the stock could not cover: how much was wanted and how much was available to it.
    public struct Shortfall: Sendable, Hashable, Codable {
        public var sku: String
        public var quantity: Int64
        public var available: Int64

        public init(sku: String, quantity: Int64, available: Int64) {
            self.sku = sku
            self.quantity = quantity
            self.available = available
        }
    }

    public var order: OrderSnapshot
    public var checkoutID: CheckoutID
    /// Fintoc's payment intent id (`pi_…`): the payment reference.
    public var paymentID: String
    public var mode: Mode
    /// When the worker decided: at most one batch (milliseconds) before the commit that recorded
    /// it (a confirmation is prepared as the payment is read, ahead of the transaction).
    public var occurredAt: Date
    /// Lines short of stock; empty for `order.confirmed`.
    public var shortfall: [Shortfall]

    public init(order: OrderSnapshot, checkoutID: CheckoutID, paymentID: String, mode: Mode, occurredAt: Date, shortfall: [Shortfall]) {
        self.order = order
        self.checkoutID = checkoutID
        self.paymentID = paymentID
        self.mode = mode
        self.occurredAt = Timestamp.truncatedToMilliseconds(occurredAt)
        self.shortfall = shortfall
    }

    public var type: FulfillmentEventType { shortfall.isEmpty ? .orderConfirmed : .orderBackordered }

    enum CodingKeys: String, CodingKey {
        case order, mode, shortfall
        case checkoutID = "checkout_id"
        case paymentID = "payment_id"
        case occurredAt = "occurred_at"
    }
}

/// A worker event in its CloudEvents 1.0 envelope (structured JSON mode), the same shape as the
/// gateway's: `id` is `<storefront>/<order id>/<type>/<checkout attempt>`, deterministic per fact
/// (without the storefront part for an order that came in a version 1 event).
public struct FulfillmentEnvelope: Sendable, Hashable, Codable {
    public var specversion = EventContract.specVersion
    public var id: String
    public var source = EventContract.workerSource
    public var type: FulfillmentEventType
    public var subject: String
    public var time: Date
    public var datacontenttype = EventContract.dataContentType
    public var dataschema: String
    public var data: OrderFulfillment

    public init(data: OrderFulfillment, attempt: Int) {
        type = data.type
        let fact = "\(data.order.id.rawValue)/\(data.type.rawValue)/\(attempt)"
        id = data.order.storefront.map { "\($0.rawValue)/\(fact)" } ?? fact
        subject = data.order.id.rawValue
        time = data.occurredAt
        // An order that came in a version 1 event has no storefront: its outcome is version 1 too.
        dataschema = data.type.dataSchema(version: data.order.storefront == nil ? 1 : FulfillmentEventType.currentVersion)
        self.data = data
    }

    /// The JSON body, keys sorted.
    public func encoded() throws -> Data {
        try Timestamp.jsonEncoder().encode(self)
    }

    public static func decode(_ body: Data) throws -> FulfillmentEnvelope {
        try Timestamp.jsonDecoder().decode(FulfillmentEnvelope.self, from: body)
    }
}
