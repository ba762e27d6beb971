import Foundation
import PaymentsCore
import Testing

@testable import Fintoc

/// The Customer object and its create body, as Fintoc's Customers API v2 documents them.
@Suite("Fintoc customer wire types")
struct CustomerWireTests {
    @Test("the documented Customer object decodes, address and all")
    func decodesTheDocumentedObject() throws {
        let json = #"""
            {"id": "cus_4xKp2BanKWYnR7m", "object": "customer",
             "address": {"city": "Santiago", "country": "cl", "line1": "Av. Providencia 1234", "line2": "Oficina 501", "postal_code": "7500000", "state": "RM"},
             "created_at": "2026-03-26T20:15:30Z", "email": "acme@example.com", "metadata": {}, "mode": "live", "name": "Acme Corp",
             "phone": "+56912345678", "tax_id": {"type": "cl_rut", "value": "111111111"}, "something_new": true}
            """#
        let customer = try FintocJSON.decoder().decode(FintocCustomer.self, from: Data(json.utf8))
        #expect(customer.id == "cus_4xKp2BanKWYnR7m" && customer.mode == .live && customer.phone == "+56912345678")
        #expect(customer.address?.postalCode == "7500000" && customer.address?.line2 == "Oficina 501")
        #expect(customer.taxID == FintocTaxID(type: FintocTaxID.chileanRUT, value: "111111111"))
        #expect(customer.createdAt == Date(timeIntervalSince1970: 1_774_556_130))

        let sparse = try FintocJSON.decoder().decode(
            FintocCustomer.self,
            from: Data(
                #"{"id": "cus_1", "object": "customer", "address": null, "email": null, "name": null, "phone": null, "tax_id": null, "metadata": {}}"#
                    .utf8))
        #expect(sparse.address == nil && sparse.taxID == nil && sparse.email == nil)
    }

    @Test("CreateCustomer encodes Fintoc's keys and leaves out what is not set")
    func encodesCreate() throws {
        let body = CreateCustomer(
            taxID: FintocTaxID(type: "mx_rfc", value: "XAXX010101000"), address: .init(postalCode: "01000", country: "mx"))
        let json = try #require(try JSONSerialization.jsonObject(with: FintocJSON.encoder().encode(body)) as? [String: Any])
        #expect(Set(json.keys) == ["tax_id", "address"])
        #expect(json["address"] as? [String: String] == ["postal_code": "01000", "country": "mx"])
    }

    @Test("the old FintocCustomer initialiser still works")
    func sourceCompatible() {
        let customer = FintocCustomer(id: "cus_1", name: "Ana", email: "ana@example.mx", taxID: nil)
        #expect(customer.object == "customer" && customer.metadata == [:] && customer.mode == nil)
    }
}
