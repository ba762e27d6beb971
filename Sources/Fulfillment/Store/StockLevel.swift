import Foundation
import GRDB

/// One product's stock as `inventory show` reports it.
public struct StockLevel: Sendable, Hashable, Codable, FetchableRecord {
    public var sku: String
    public var name: String
    /// Units in the warehouse.
    public var onHand: Int64
    /// Units promised to open checkouts whose holds have not lapsed.
    public var held: Int64
    /// `on_hand - held`: what a new checkout can still hold.
    public var available: Int64

    public init(sku: String, name: String, onHand: Int64, held: Int64, available: Int64) {
        self.sku = sku
        self.name = name
        self.onHand = onHand
        self.held = held
        self.available = available
    }

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case sku, name, held, available
        case onHand = "on_hand"
    }
}
