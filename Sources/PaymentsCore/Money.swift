/// An amount in one currency, held as integer minor units so no payment is ever rounded.
///
/// Arithmetic is checked: mixing currencies or overflowing `Int64` is an error the caller must
/// handle, never a trap in a server process and never a silently wrong total.
public struct Money: Sendable, Hashable, Codable {
    /// Integer count of the currency's smallest unit (pesos for CLP, centavos for MXN).
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func zero(_ currency: Currency) -> Money {
        Money(minorUnits: 0, currency: currency)
    }

    public var isNegative: Bool { minorUnits < 0 }

    public func adding(_ other: Money) throws(MoneyError) -> Money {
        guard other.currency == currency else {
            throw .currencyMismatch(currency, other.currency)
        }
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: sum, currency: currency)
    }

    public func subtracting(_ other: Money) throws(MoneyError) -> Money {
        guard other.currency == currency else {
            throw .currencyMismatch(currency, other.currency)
        }
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: difference, currency: currency)
    }

    public func multiplied(by factor: Int64) throws(MoneyError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: product, currency: currency)
    }

    /// Sums amounts that must all be in `currency`; an empty list is zero.
    public static func sum(_ amounts: some Sequence<Money>, in currency: Currency) throws(MoneyError) -> Money {
        var total = Money.zero(currency)
        for amount in amounts {
            total = try total.adding(amount)
        }
        return total
    }

    /// The amount as a person reads it: CLP `$350.000`, MXN `$3,500.00`, negatives `-$1.000`.
    ///
    /// Written by hand rather than through a locale so the output is identical on every machine
    /// and in every email, whatever locales the host has installed.
    public var formatted: String {
        let magnitude = minorUnits.magnitude
        let digits = currency.minorUnitDigits
        var divisor: UInt64 = 1
        for _ in 0..<digits { divisor *= 10 }
        let whole = magnitude / divisor
        let fraction = magnitude % divisor

        var grouped = ""
        for (index, character) in String(whole).reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(currency.groupingSeparator) }
            grouped.append(character)
        }
        var text = (minorUnits < 0 ? "-$" : "$") + String(grouped.reversed())
        if digits > 0 {
            let fractionText = String(fraction)
            text.append(currency.decimalSeparator)
            text += String(repeating: "0", count: digits - fractionText.count) + fractionText
        }
        return text
    }
}

extension Money: CustomStringConvertible {
    public var description: String { "\(formatted) \(currency.code)" }
}

public enum MoneyError: Error, Sendable, Hashable, CustomStringConvertible {
    case currencyMismatch(Currency, Currency)
    case overflow

    public var description: String {
        switch self {
        case .currencyMismatch(let lhs, let rhs): "cannot combine \(lhs.code) with \(rhs.code)"
        case .overflow: "amount is too large"
        }
    }
}
