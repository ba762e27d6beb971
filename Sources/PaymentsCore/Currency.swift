/// The currencies Fintoc settles: Chilean pesos and Mexican pesos.
///
/// Amounts everywhere are integers in the currency's smallest unit, so the only facts a currency
/// needs to carry are how many of those units make one peso and how people write them.
public enum Currency: String, Sendable, Hashable, CaseIterable, Codable {
    /// Chilean peso: no minor unit, so 350000 means CLP 350.000.
    case clp = "CLP"
    /// Mexican peso: two decimals, so 350000 means MXN 3,500.00.
    case mxn = "MXN"

    /// The ISO 4217 code, upper case as Fintoc answers it.
    public var code: String { rawValue }

    /// Digits after the decimal point in the currency's display form.
    public var minorUnitDigits: Int {
        switch self {
        case .clp: 0
        case .mxn: 2
        }
    }

    /// How people group thousands and mark decimals (Chile: `350.000`; Mexico: `3,500.00`).
    var groupingSeparator: Character {
        switch self {
        case .clp: "."
        case .mxn: ","
        }
    }

    var decimalSeparator: Character { "." }

    /// Parses an ISO code in any case (`clp`, `Clp`, `CLP`); Fintoc's docs send both.
    public init?(code: String) {
        self.init(rawValue: code.uppercased())
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let currency = Currency(code: raw) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription:
                    "unsupported currency \"\(raw)\"; expected one of \(Currency.allCases.map(\.code).joined(separator: ", "))"
            )
        }
        self = currency
    }
}
