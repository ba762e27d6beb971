import Foundation
import PaymentsCore
import Testing

@Suite("Validation errors name the field and the reason")
struct ValidationTests {
    /// The issues `body` reports; a test fails if it throws anything but a `ValidationError`.
    private func issues(_ body: () throws -> Void) -> [ValidationIssue] {
        do {
            try body()
            return []
        } catch let error as ValidationError {
            return error.issues
        } catch {
            Issue.record("unexpected \(error)")
            return []
        }
    }

    @Test("identifiers: empty, too long and bad characters")
    func identifiers() throws {
        #expect(try OrderID("ord-1001").rawValue == "ord-1001")
        #expect(try OrderID("A.b_c-9").description == "A.b_c-9")
        #expect(issues { _ = try OrderID("") } == [ValidationIssue(path: "order_id", code: "required", reason: "must not be empty")])
        #expect(issues { _ = try OrderID(String(repeating: "a", count: 65)) }.map(\.code) == ["too_long"])
        #expect(try OrderID(String(repeating: "a", count: 64)).rawValue.count == 64)
        for bad in ["-start", "has space", "slash/inside", "ñandú", "tab\t", "#1001"] {
            #expect(issues { _ = try OrderID(bad) }.map(\.code) == ["invalid_format"], "\(bad)")
        }
        #expect(issues { _ = try CheckoutID("x/y", at: "data.checkout.id") }.map(\.path) == ["data.checkout.id"])
    }

    @Test("line items: every problem at once, each under its own path")
    func lineItems() {
        let found = issues {
            try LineItem(sku: "has space", name: " ", quantity: 0, unitAmount: -1).validate(at: "line_items[2]")
        }
        #expect(
            found == [
                ValidationIssue(path: "line_items[2].sku", code: "invalid_format", reason: "must not contain spaces or control characters"),
                ValidationIssue(path: "line_items[2].name", code: "required", reason: "must not be empty"),
                ValidationIssue(path: "line_items[2].quantity", code: "must_be_positive", reason: "must be greater than 0"),
                ValidationIssue(path: "line_items[2].unit_amount", code: "must_not_be_negative", reason: "must be 0 or more"),
            ])
        #expect(issues { try LineItem(sku: "A", name: "Free sample", quantity: 1, unitAmount: 0).validate(at: "x") }.isEmpty)
        #expect(
            issues { try LineItem(sku: "", name: "n", quantity: 1_000_001, unitAmount: 1).validate(at: "l") }.map(\.code) == [
                "required", "too_large",
            ])
        #expect(
            issues {
                try LineItem(sku: String(repeating: "s", count: 65), name: String(repeating: "n", count: 201), quantity: 1, unitAmount: 1)
                    .validate(at: "l")
            }.map(\.code) == ["too_long", "too_long"])
    }

    @Test("lengths count Unicode scalars, as the JSON Schemas' maxLength does")
    func lengthsInScalars() {
        // 150 "é" written as e + combining acute: 150 characters to a person, 300 scalars.
        let decomposed = String(repeating: "e\u{301}", count: 150)
        #expect(decomposed.count == 150 && decomposed.unicodeScalars.count == 300)
        #expect(
            issues { try LineItem(sku: "A", name: decomposed, quantity: 1, unitAmount: 1).validate(at: "l") }.map(\.code) == ["too_long"])
        #expect(issues { try Customer(email: "a@example.cl", name: decomposed).validate(at: "c") }.map(\.code) == ["too_long"])
        let composed = String(repeating: "\u{e9}", count: 200)
        #expect(issues { try LineItem(sku: "A", name: composed, quantity: 1, unitAmount: 1).validate(at: "l") }.isEmpty)
    }

    @Test(
        "customer email shape",
        arguments: [
            ("felipe@example.cl", true), ("a.b+tag@sub.example.mx", true), ("josé@example.cl", true),
            ("", false), ("no-at.example.cl", false), ("two@@example.cl", false), ("a@b", false),
            ("a b@example.cl", false), (".a@example.cl", false), ("a..b@example.cl", false),
            ("a@-example.cl", false), ("a@example..cl", false), ("a@exa_mple.cl", false),
        ])
    func email(address: String, valid: Bool) {
        let found = issues { try Customer(email: address).validate(at: "customer") }
        #expect(found.isEmpty == valid, "\(address): \(found)")
        if !valid {
            #expect(found.first?.path == "customer.email")
        }
    }

    @Test(
        "Chilean RUT: format and modulo-11 check digit",
        arguments: [
            ("11.111.111-1", true), ("11111111-1", true), ("41614850-3", true), ("40427672-7", true),
            ("41579263-8", true), ("10.000.013-k", true), ("10000013-K", true), ("12.345.678-5", true),
            ("11.111.111-2", false), ("11111111", false), ("1111111a-1", false), ("123456789-0", false), ("-1", false),
        ])
    func rut(value: String, valid: Bool) {
        let found = issues { try TaxID(type: .clRUT, value: value).validate(at: "customer.tax_id") }
        #expect(found.isEmpty == valid, "\(value): \(found)")
        if !valid {
            #expect(found.map(\.path) == ["customer.tax_id.value"])
            #expect(found.map(\.code) == ["invalid_tax_id"])
        }
    }

    @Test("a tax id longer than the schema allows is refused, however its dots are placed")
    func taxIDLength() {
        let found = issues { try TaxID(type: .clRUT, value: "1.1.1.1.1.1.1.1.1.1.1-1").validate(at: "t") }
        #expect(found == [ValidationIssue(path: "t.value", code: "too_long", reason: "must be at most 20 characters")])
    }

    @Test(
        "Mexican RFC: letters, a real month and day, homoclave",
        arguments: [
            ("XAXX010101000", true), ("LOPA850101AB1", true), ("ABC991231XY9", true), ("lopa850101ab1", true), ("ÑAND850101AB1", true),
            ("LOPA851301AB1", false), ("LOPA850132AB1", false), ("LOP4850101AB1", false), ("LOPA850101AB", false),
            ("LOPA8501010AB12", false),
        ])
    func rfc(value: String, valid: Bool) {
        let found = issues { try TaxID(type: .mxRFC, value: value).validate(at: "t") }
        #expect(found.isEmpty == valid, "\(value): \(found)")
    }

    @Test("an order's lines must add up to its amount")
    func orderTotals() {
        var order = Fixtures.chileanOrder
        #expect(issues { try order.validate() }.isEmpty)
        order.amount = 350_001
        #expect(
            issues { try order.validate() } == [
                ValidationIssue(path: "amount", code: "amount_mismatch", reason: "must equal the sum of the lines (350000), not 350001")
            ])
        order.amount = 0
        #expect(issues { try order.validate(at: "data.order") }.map(\.path) == ["data.order.amount"])
        order.amount = 1
        order.lineItems = []
        #expect(issues { try order.validate() }.map(\.code) == ["required"])
        order.lineItems = Array(repeating: LineItem(sku: "A", name: "A", quantity: 1, unitAmount: 1), count: 101)
        order.amount = 101
        #expect(issues { try order.validate() }.map(\.code) == ["too_many"])
        order.lineItems = [LineItem(sku: "A", name: "A", quantity: 1_000_000, unitAmount: .max / 10)]
        #expect(issues { try order.validate() }.map(\.code) == ["too_large"])
    }

    @Test("issues from lines and customer are reported together")
    func collectsAcrossFields() {
        var order = Fixtures.chileanOrder
        order.lineItems[1].quantity = -1
        order.customer = Customer(email: "bad", name: "", taxID: TaxID(type: .clRUT, value: "1-1"))
        let found = issues { try order.validate() }
        #expect(found.map(\.path) == ["line_items[1].quantity", "customer.email", "customer.name", "customer.tax_id.value"])
        #expect(ValidationError(found).description.hasPrefix("line_items[1].quantity: must be greater than 0; customer.email:"))
    }

    @Test("decoding a bad identifier names its path")
    func decodingPath() {
        let json = Data(#"{"id":"bad id","attempt":1,"ui":"redirect"}"#.utf8)
        do {
            _ = try Timestamp.jsonDecoder().decode(CheckoutSnapshot.self, from: json)
            Issue.record("decoded a bad id")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription.hasPrefix("id: must start with a letter or digit"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
