/// One line of an order as the storefront sent it; prices are in the order's currency.
public struct LineItem: Sendable, Hashable, Codable {
    public static let maxQuantity: Int64 = 1_000_000
    public static let maxSKULength = 64
    public static let maxNameLength = 200
    // Lengths count Unicode scalars, as JSON Schema's maxLength does, so the published schemas
    // and this code accept exactly the same strings.

    /// The storefront's stock-keeping unit; the worker's inventory is keyed by it.
    public var sku: String
    public var name: String
    public var quantity: Int64
    /// Price of one unit in minor units of the order's currency.
    public var unitAmount: Int64

    public init(sku: String, name: String, quantity: Int64, unitAmount: Int64) {
        self.sku = sku
        self.name = name
        self.quantity = quantity
        self.unitAmount = unitAmount
    }

    enum CodingKeys: String, CodingKey {
        case sku, name, quantity
        case unitAmount = "unit_amount"
    }

    /// Checks every field and reports all problems, each under `path` (e.g. `line_items[2]`).
    public func validate(at path: String) throws(ValidationError) {
        var issues = ValidationCollector()
        let skuPath = ValidationCollector.join(path, "sku")
        if sku.trimmingWhitespace.isEmpty {
            issues.add(skuPath, "required", "must not be empty")
        } else if sku.unicodeScalars.count > Self.maxSKULength {
            issues.add(skuPath, "too_long", "must be at most \(Self.maxSKULength) characters")
        } else if sku.contains(where: { $0.isWhitespace || $0.isControlCharacter }) {
            issues.add(skuPath, "invalid_format", "must not contain spaces or control characters")
        }
        let namePath = ValidationCollector.join(path, "name")
        if name.trimmingWhitespace.isEmpty {
            issues.add(namePath, "required", "must not be empty")
        } else if name.unicodeScalars.count > Self.maxNameLength {
            issues.add(namePath, "too_long", "must be at most \(Self.maxNameLength) characters")
        } else if name.contains(where: \.isControlCharacter) {
            issues.add(namePath, "invalid_format", "must not contain control characters")
        }
        let quantityPath = ValidationCollector.join(path, "quantity")
        if quantity <= 0 {
            issues.add(quantityPath, "must_be_positive", "must be greater than 0")
        } else if quantity > Self.maxQuantity {
            issues.add(quantityPath, "too_large", "must be at most \(Self.maxQuantity)")
        }
        if unitAmount < 0 {
            issues.add(ValidationCollector.join(path, "unit_amount"), "must_not_be_negative", "must be 0 or more")
        }
        try issues.check()
    }

    /// `quantity × unit_amount`, checked for overflow.
    public func total(in currency: Currency) throws(MoneyError) -> Money {
        try Money(minorUnits: unitAmount, currency: currency).multiplied(by: quantity)
    }
}

extension String {
    /// The text without leading and trailing whitespace (a blank text becomes empty).
    public var trimmingWhitespace: Substring {
        let start = firstIndex(where: { !$0.isWhitespace }) ?? endIndex
        let end = lastIndex(where: { !$0.isWhitespace }).map(index(after:)) ?? start
        return self[start..<max(start, end)]
    }
}

extension Character {
    /// A control character (line breaks, NUL, …): never wanted in a name shown to a person.
    public var isControlCharacter: Bool {
        unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
