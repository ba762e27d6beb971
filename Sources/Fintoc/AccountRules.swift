import PaymentsCore

/// Fintoc's institution ids carry their country (`cl_banco_estado`, `mx_bbva`), and a payment in
/// a currency moves only between banks of that currency's country.
public enum FintocInstitution {
    /// `cl_` for CLP, `mx_` for MXN; nil for a currency Fintoc does not take.
    public static func prefix(for currency: FintocCurrency) -> String? {
        switch currency {
        case .clp: "cl_"
        case .mxn: "mx_"
        default: nil
        }
    }

    /// The longest id taken; Fintoc's are far shorter.
    public static let maxLength = 64

    /// Why `id` cannot be an institution for `currency`, or nil when it can: the country prefix,
    /// then lower-case letters, digits and underscores.
    public static func problem(with id: String, currency: FintocCurrency) -> String? {
        guard let prefix = prefix(for: currency) else { return "no institution takes \(currency.rawValue)" }
        guard id.utf8.count <= maxLength else { return "must be at most \(maxLength) characters" }
        let rest = id.dropFirst(prefix.count)
        guard id.hasPrefix(prefix), !rest.isEmpty,
            rest.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else {
            return "must be an institution id of \(currency.rawValue)'s country, like \(prefix)banco_estado (\(prefix)…)"
        }
        return nil
    }
}

extension BankAccount {
    /// The account types Fintoc pays into, per currency.
    public static func recipientTypes(for currency: FintocCurrency) -> [String] {
        switch currency {
        case .clp: ["checking_account", "sight_account", "savings_account"]
        case .mxn: ["clabe"]
        default: []
        }
    }

    /// The longest Chilean account number taken; real ones are far shorter.
    public static let maxChileanNumberLength = 20

    /// Checks this account as a payment intent's `recipient_account` in `currency`, the way
    /// Fintoc does: all four fields; the institution in the currency's country; in Chile a
    /// checking, sight or savings account, a RUT holder (check digit right, dots and hyphen
    /// optional) and an all-digit number; in Mexico a `clabe` with a valid CLABE and an RFC holder.
    ///
    /// Every issue is reported, with paths under `path` (`recipient_account.holder_id`), so the
    /// sandbox and a caller validating ahead of Fintoc name the same fields.
    public func validateAsRecipient(currency: FintocCurrency, at path: String) throws(ValidationError) {
        var issues = ValidationCollector()
        func field(_ name: String) -> String { ValidationCollector.join(path, name) }
        let fields: [(String, String?)] = [("holder_id", holderID), ("number", number), ("type", type), ("institution_id", institutionID)]
        for (name, value) in fields where value?.isEmpty ?? true {
            issues.add(field(name), "required", "is required")
        }
        try issues.check()
        guard let holderID, let number, let type, let institutionID else { return }

        if let problem = FintocInstitution.problem(with: institutionID, currency: currency) {
            issues.add(field("institution_id"), "invalid_institution", problem)
        }
        let types = Self.recipientTypes(for: currency)
        if !types.contains(type) {
            issues.add(field("type"), "invalid_type", "must be one of \(types.joined(separator: ", ")) for \(currency.rawValue)")
        }
        switch currency {
        case .clp:
            if ChileanRUT.normalized(holderID) == nil {
                issues.add(
                    field("holder_id"), "invalid_tax_id", "must be the holder's RUT with its check digit, e.g. 11.111.111-1 or 111111111")
            }
            if number.count > Self.maxChileanNumberLength || !number.allSatisfy({ $0.isASCII && $0.isNumber }) {
                issues.add(
                    field("number"), "invalid_account_number", "must be the account number, 1 to \(Self.maxChileanNumberLength) digits")
            }
        case .mxn:
            if !MexicanRFC.isWellFormed(holderID) {
                issues.add(field("holder_id"), "invalid_tax_id", "must be the holder's RFC, e.g. XAXX010101000")
            }
            if let problem = MexicanCLABE.problem(with: number) {
                issues.add(field("number"), "invalid_account_number", problem)
            }
        default:
            break
        }
        try issues.check()
    }
}
