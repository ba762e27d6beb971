import Fintoc
import PaymentsCore

/// The account a direct payment (`ui: payment_intent`) goes to, as Fintoc's `recipient_account`
/// names it (seeds 001 and 004): in Chile a RUT holder and a checking, sight or savings account;
/// in Mexico an RFC holder and an 18-digit CLABE. Checked here as Fintoc would check it, so a
/// mistyped account is a 400 naming the field, not a 502 after a round trip.
struct RecipientAccount: Sendable, Hashable, Codable {
    static let chileanTypes = ["checking_account", "sight_account", "savings_account"]
    static let maxNumberLength = 20

    var holderID: String
    var number: String
    var type: String
    var institutionID: String

    enum CodingKeys: String, CodingKey {
        case number, type
        case holderID = "holder_id"
        case institutionID = "institution_id"
    }

    /// As Fintoc takes it: a RUT holder without dots or hyphen, as in Fintoc's own examples.
    var fintoc: BankAccount {
        BankAccount(holderID: TaxID(type: .clRUT, value: holderID).normalizedValue ?? holderID, number: number, type: type, institutionID: institutionID)
    }

    static func parse(_ value: JSONValue, at root: String, currency: Currency?, issues: inout ValidationCollector) -> RecipientAccount? {
        guard let object = JSONObjectFields(value, at: root, allowed: ["holder_id", "number", "type", "institution_id"], issues: &issues) else { return nil }
        var strings: [String: String] = [:]
        for key in ["holder_id", "number", "type", "institution_id"] {
            switch object.fields[key] {
            case .string(let text) where !text.isEmpty: strings[key] = text
            case nil: issues.add(object.path(key), "required", "is required")
            default: issues.add(object.path(key), "invalid_type", "must be a non-empty string")
            }
        }
        guard let holderID = strings["holder_id"], let number = strings["number"], let type = strings["type"], let institutionID = strings["institution_id"] else {
            return nil
        }
        if let problem = Institution.problem(with: institutionID, currency: currency) {
            issues.add(object.path("institution_id"), "invalid_institution", problem)
        }
        switch currency?.code {
        case "CLP":
            if !chileanTypes.contains(type) {
                issues.add(object.path("type"), "invalid_value", "must be \(chileanTypes.joined(separator: ", ")) for CLP")
            }
            if !(1...maxNumberLength).contains(number.count) || !number.allSatisfy(\.isASCIIDigit) {
                issues.add(object.path("number"), "invalid_format", "must be the account number: 1 to \(maxNumberLength) digits")
            }
            if TaxID(type: .clRUT, value: holderID).normalizedValue == nil {
                issues.add(object.path("holder_id"), "invalid_tax_id", "must be the holder's RUT, e.g. 11.111.111-1 or 111111111, with a matching check digit")
            }
        case "MXN":
            if type != "clabe" { issues.add(object.path("type"), "invalid_value", "must be clabe for MXN") }
            if !CLABE.isValid(number) {
                issues.add(object.path("number"), "invalid_format", "must be an 18-digit CLABE with a matching check digit")
            }
            if (try? TaxID(type: .mxRFC, value: holderID).validate(at: "")) == nil {
                issues.add(object.path("holder_id"), "invalid_tax_id", "must be the holder's RFC")
            }
        default:
            break  // An unknown currency is reported on its own field.
        }
        return RecipientAccount(holderID: holderID, number: number, type: type, institutionID: institutionID)
    }
}

/// Mexico's CLABE: 18 digits, the last a check digit over the first 17 (weights 3, 7, 1).
enum CLABE {
    static func isValid(_ text: String) -> Bool {
        let digits = text.compactMap { $0.isASCIIDigit ? $0.wholeNumberValue : nil }
        guard text.count == 18, digits.count == 18 else { return false }
        let weights = [3, 7, 1]
        let sum = digits.prefix(17).enumerated().reduce(0) { sum, pair in sum + (pair.element * weights[pair.offset % 3]) % 10 }
        return (10 - sum % 10) % 10 == digits[17]
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
