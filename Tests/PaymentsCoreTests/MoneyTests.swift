import Foundation
import PaymentsCore
import Testing

@Suite("Money and Currency")
struct MoneyTests {
    @Test("CLP has no minor unit and groups with dots; MXN has centavos and groups with commas")
    func formatting() {
        #expect(Money(minorUnits: 350_000, currency: .clp).formatted == "$350.000")
        #expect(Money(minorUnits: 350_000, currency: .mxn).formatted == "$3,500.00")
        #expect(Money(minorUnits: 0, currency: .clp).formatted == "$0")
        #expect(Money(minorUnits: 0, currency: .mxn).formatted == "$0.00")
        #expect(Money(minorUnits: 5, currency: .mxn).formatted == "$0.05")
        #expect(Money(minorUnits: 999, currency: .clp).formatted == "$999")
        #expect(Money(minorUnits: 1_000, currency: .clp).formatted == "$1.000")
        #expect(Money(minorUnits: 123_456_789, currency: .mxn).formatted == "$1,234,567.89")
        #expect(Money(minorUnits: -1_000, currency: .clp).formatted == "-$1.000")
        #expect(Money(minorUnits: .max, currency: .clp).formatted == "$9.223.372.036.854.775.807")
        #expect(Money(minorUnits: .min, currency: .mxn).formatted == "-$92,233,720,368,547,758.08")
        #expect(Money(minorUnits: 350_000, currency: .clp).description == "$350.000 CLP")
    }

    @Test("adding, subtracting and multiplying stay exact")
    func arithmetic() throws {
        let a = Money(minorUnits: 100_000, currency: .clp)
        let b = Money(minorUnits: 250_000, currency: .clp)
        #expect(try a.adding(b) == Money(minorUnits: 350_000, currency: .clp))
        #expect(try a.subtracting(b) == Money(minorUnits: -150_000, currency: .clp))
        #expect(try a.multiplied(by: 3) == Money(minorUnits: 300_000, currency: .clp))
        #expect(try Money.sum([a, b, a], in: .clp).minorUnits == 450_000)
        #expect(try Money.sum([], in: .mxn) == .zero(.mxn))
    }

    @Test("overflow is an error, never a trap or a wrapped value")
    func overflow() {
        let max = Money(minorUnits: .max, currency: .mxn)
        let min = Money(minorUnits: .min, currency: .mxn)
        let one = Money(minorUnits: 1, currency: .mxn)
        #expect(throws: MoneyError.overflow) { try max.adding(one) }
        #expect(throws: MoneyError.overflow) { try min.subtracting(one) }
        #expect(throws: MoneyError.overflow) { try max.multiplied(by: 2) }
        #expect(throws: MoneyError.overflow) { try min.multiplied(by: -1) }
        #expect(throws: MoneyError.overflow) { try Money.sum([max, one], in: .mxn) }
        #expect(throws: MoneyError.overflow) {
            try LineItem(sku: "X", name: "X", quantity: 1_000_000, unitAmount: .max / 100).total(in: .clp)
        }
    }

    @Test("mixing currencies is an error that names both")
    func currencyMismatch() {
        let clp = Money(minorUnits: 1, currency: .clp)
        let mxn = Money(minorUnits: 1, currency: .mxn)
        #expect(throws: MoneyError.currencyMismatch(.clp, .mxn)) { try clp.adding(mxn) }
        #expect(throws: MoneyError.currencyMismatch(.mxn, .clp)) { try mxn.subtracting(clp) }
        #expect(throws: MoneyError.currencyMismatch(.clp, .mxn)) { try Money.sum([mxn], in: .clp) }
        #expect(MoneyError.currencyMismatch(.clp, .mxn).description == "cannot combine CLP with MXN")
    }

    @Test("currency codes parse in any case and are written upper case", arguments: ["CLP", "clp", "Clp", "cLP"])
    func parsing(code: String) throws {
        #expect(Currency(code: code) == .clp)
        let decoded = try Timestamp.jsonDecoder().decode([Currency].self, from: Data("[\"\(code)\"]".utf8))
        #expect(decoded == [.clp])
        #expect(String(decoding: try Timestamp.jsonEncoder().encode(decoded), as: UTF8.self) == "[\"CLP\"]")
    }

    @Test("unsupported currencies are refused with the list of supported ones")
    func unsupportedCurrency() {
        #expect(Currency(code: "USD") == nil)
        #expect(Currency(code: "") == nil)
        #expect(Currency(code: " CLP") == nil)
        do {
            _ = try Timestamp.jsonDecoder().decode([Currency].self, from: Data("[\"usd\"]".utf8))
            Issue.record("decoded an unsupported currency")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription == "unsupported currency \"usd\"; expected one of CLP, MXN")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("minor unit digits follow ISO 4217")
    func minorUnits() {
        #expect(Currency.clp.minorUnitDigits == 0)
        #expect(Currency.mxn.minorUnitDigits == 2)
    }
}
