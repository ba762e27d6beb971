import Fintoc
import PaymentsCore

/// The account a direct payment (`ui: payment_intent`) goes to, as Fintoc's `recipient_account`
/// names it (seeds 001 and 004). Checked here by Fintoc's own rules
/// (`BankAccount.validateAsRecipient`, which the sandbox enforces too), so a mistyped account is
/// a 400 naming the field, not a 502 after a round trip.
struct RecipientAccount: Sendable, Hashable, Codable {
    static let fields = ["holder_id", "number", "type", "institution_id"]

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
        BankAccount(holderID: ChileanRUT.normalized(holderID) ?? holderID, number: number, type: type, institutionID: institutionID)
    }

    static func parse(_ value: JSONValue, at root: String, currency: Currency?, issues: inout ValidationCollector) -> RecipientAccount? {
        guard let object = JSONObjectFields(value, at: root, allowed: Set(fields), issues: &issues) else { return nil }
        var strings: [String: String] = [:]
        for key in fields {
            switch object.fields[key] {
            case .string(let text) where !text.isEmpty: strings[key] = text
            case nil: issues.add(object.path(key), "required", "is required")
            default: issues.add(object.path(key), "invalid_type", "must be a non-empty string")
            }
        }
        guard let holderID = strings["holder_id"], let number = strings["number"], let type = strings["type"],
            let institutionID = strings["institution_id"]
        else {
            return nil
        }
        let account = RecipientAccount(holderID: holderID, number: number, type: type, institutionID: institutionID)
        if let currency {  // An unknown currency is reported on its own field.
            _ = issues.collect { () throws(ValidationError) in
                try BankAccount(holderID: holderID, number: number, type: type, institutionID: institutionID)
                    .validateAsRecipient(currency: FintocCurrency(rawValue: currency.code), at: root)
            }
        }
        return account
    }
}
