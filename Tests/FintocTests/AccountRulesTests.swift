import Foundation
import PaymentsCore
import Testing

@testable import Fintoc

/// The tax id, CLABE and institution rules the sandbox enforces and the gateway can check ahead
/// of Fintoc: one implementation, in PaymentsCore and Fintoc.
@Suite("account and tax id rules")
struct AccountRulesTests {
    @Test(
        "a RUT normalises the way Fintoc stores it, in any spelling",
        arguments: [
            ("11.111.111-1", "111111111"), ("11111111-1", "111111111"), ("111111111", "111111111"),
            ("10.000.013-K", "10000013K"), ("10000013k", "10000013K"), ("7.654.321-6", "76543216"),
        ])
    func rutNormalises(input: String, expected: String) {
        #expect(ChileanRUT.normalized(input) == expected)
    }

    @Test(
        "a RUT with a wrong check digit or shape normalises to nothing",
        arguments: [
            "11.111.111-2", "11111112", "", "1", "-1", "1-", "11-111-111-1", "111.111.111-1", "abc", "1111111ß", "123456789-0",
        ])
    func rutRefused(input: String) {
        #expect(ChileanRUT.normalized(input) == nil)
    }

    @Test("the storefront's written form still needs its dash, and a search term is compacted unchecked")
    func strictAndCompact() {
        #expect(ChileanRUT.problem(with: "11.111.111-1") == nil)
        #expect(ChileanRUT.problem(with: "111111111") != nil)
        #expect(ChileanRUT.compacted(" 11.111.111-k ") == "11111111K")
    }

    @Test("an RFC normalises upper case; a malformed one to nothing")
    func rfc() {
        #expect(MexicanRFC.normalized("xaxx010101000") == "XAXX010101000")
        #expect(MexicanRFC.normalized("GODE561231GR8") == "GODE561231GR8")
        #expect(MexicanRFC.normalized("XAXX011301000") == nil)
        #expect(MexicanRFC.normalized("XAXX0101010") == nil)
    }

    @Test(
        "a CLABE needs 18 digits and its 3-7-1 check digit",
        arguments: [
            ("002010077777777771", true), ("032180000118359719", true), ("012180001183597198", true),
            ("002010077777777772", false), ("00201007777777777", false), ("0020100777777777710", false), ("00201007777777777A", false),
        ])
    func clabe(input: String, valid: Bool) {
        #expect((MexicanCLABE.problem(with: input) == nil) == valid)
    }

    @Test("an institution must belong to the currency's country")
    func institution() {
        #expect(FintocInstitution.problem(with: "cl_banco_estado", currency: .clp) == nil)
        #expect(FintocInstitution.problem(with: "mx_bbva", currency: .mxn) == nil)
        #expect(FintocInstitution.problem(with: "mx_bbva", currency: .clp) != nil)
        #expect(FintocInstitution.problem(with: "cl_", currency: .clp) != nil)
        #expect(FintocInstitution.problem(with: "cl_Banco", currency: .clp) != nil)
        #expect(FintocInstitution.problem(with: "us_chase", currency: "USD") != nil)
    }

    @Test("a recipient account reports every issue with its path")
    func recipientIssues() throws {
        let good = BankAccount(holderID: "18.391.713-7", number: "123456", type: "checking_account", institutionID: "cl_banco_de_chile")
        try good.validateAsRecipient(currency: .clp, at: "recipient_account")
        let mexican = BankAccount(holderID: "XAXX010101000", number: "002010077777777771", type: "clabe", institutionID: "mx_banamex")
        try mexican.validateAsRecipient(currency: .mxn, at: "recipient_account")

        let missing = BankAccount(holderID: nil, number: "", type: "checking_account", institutionID: "cl_banco_de_chile")
        #expect(
            throws: ValidationError([
                ValidationIssue(path: "recipient_account.holder_id", code: "required", reason: "is required"),
                ValidationIssue(path: "recipient_account.number", code: "required", reason: "is required"),
            ])
        ) { try missing.validateAsRecipient(currency: .clp, at: "recipient_account") }

        let wrong = BankAccount(holderID: "XAXX010101000", number: "12-3", type: "clabe", institutionID: "mx_bbva")
        do {
            try wrong.validateAsRecipient(currency: .clp, at: "account")
            Issue.record("a Mexican account passed as Chilean")
        } catch {
            #expect(error.issues.map(\.path) == ["account.institution_id", "account.type", "account.holder_id", "account.number"])
            #expect(error.issues.map(\.code) == ["invalid_institution", "invalid_type", "invalid_tax_id", "invalid_account_number"])
        }
    }
}
