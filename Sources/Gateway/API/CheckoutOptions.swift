import Fintoc
import PaymentsCore

/// What a storefront may choose of Fintoc's checkout beyond the order itself.
///
/// For `ui: redirect` (Fintoc's v2 checkout session, seed 002): which payment methods the hosted
/// page offers, a bank chosen in advance, and the recipient name a submerchant's customer sees.
/// For `ui: payment_intent` (seeds 001 and 004): the account a direct payment goes to. Each is
/// refused with the styles Fintoc does not take it for, rather than silently dropped.
struct CheckoutOptions: Sendable, Hashable, Codable {
    enum PaymentMethod: String, Sendable, Hashable, Codable, CaseIterable {
        case bankTransfer = "bank_transfer"
        case card
    }

    static let maxBusinessNameLength = 100

    /// The methods the hosted page offers; nil lets Fintoc offer every method the account has.
    var paymentMethodTypes: [PaymentMethod]?
    /// `payment_method_options.bank_transfer.sender_account.institution_id.value`: the page opens
    /// this bank's login and skips its bank list.
    var senderInstitutionID: String?
    /// `business_profile.name`: shown to the customer as the recipient of the payment.
    var businessName: String?
    /// Where a direct payment goes; overrides `FINTOC_RECIPIENT_ACCOUNT` for this checkout.
    var recipientAccount: RecipientAccount?

    var isEmpty: Bool { self == CheckoutOptions() }

    enum CodingKeys: String, CodingKey {
        case paymentMethodTypes = "payment_method_types"
        case senderInstitutionID = "sender_institution_id"
        case businessName = "business_name"
        case recipientAccount = "recipient_account"
    }

    /// The options as they arrive: untyped, so every problem is reported with its own path.
    struct Wire: Sendable {
        var paymentMethodTypes: JSONValue?
        var paymentMethodOptions: JSONValue?
        var businessProfile: JSONValue?
        var recipientAccount: JSONValue?
    }

    /// Validates the options against the checkout's style and currency (when those are known);
    /// adds every problem to `issues` and answers nil when there is none to send.
    static func parse(_ wire: Wire, ui: CheckoutUI?, currency: Currency?, issues: inout ValidationCollector) -> CheckoutOptions? {
        var options = CheckoutOptions()
        let hostedOnly = "is only for ui redirect (Fintoc's hosted checkout page)"

        if let value = wire.paymentMethodTypes.nonNull {
            if let ui, ui != .redirect { issues.add("payment_method_types", "not_allowed", hostedOnly) }
            options.paymentMethodTypes = paymentMethods(value, issues: &issues)
        }
        if let value = wire.paymentMethodOptions.nonNull {
            if let ui, ui != .redirect { issues.add("payment_method_options", "not_allowed", hostedOnly) }
            options.senderInstitutionID = senderInstitution(value, currency: currency, issues: &issues)
            if options.senderInstitutionID != nil, let methods = options.paymentMethodTypes, !methods.contains(.bankTransfer) {
                issues.add("payment_method_options.bank_transfer", "conflict", "needs bank_transfer in payment_method_types")
            }
        }
        if let value = wire.businessProfile.nonNull {
            if let ui, ui != .redirect { issues.add("business_profile", "not_allowed", hostedOnly) }
            options.businessName = businessName(value, issues: &issues)
        }
        if let value = wire.recipientAccount.nonNull {
            if let ui, ui != .paymentIntent {
                issues.add("recipient_account", "not_allowed", "is only for ui payment_intent (a direct payment into one account)")
            }
            options.recipientAccount = RecipientAccount.parse(value, at: "recipient_account", currency: currency, issues: &issues)
        }
        return options.isEmpty ? nil : options
    }

    private static func paymentMethods(_ value: JSONValue, issues: inout ValidationCollector) -> [PaymentMethod]? {
        let path = "payment_method_types"
        let allowed = PaymentMethod.allCases.map(\.rawValue).joined(separator: " or ")
        guard case .array(let items) = value, !items.isEmpty, items.count <= PaymentMethod.allCases.count else {
            issues.add(path, "invalid_type", "must be an array of 1 to \(PaymentMethod.allCases.count) of \(allowed)")
            return nil
        }
        var methods: [PaymentMethod] = []
        for (index, item) in items.enumerated() {
            guard let method = item.stringValue.flatMap(PaymentMethod.init(rawValue:)) else {
                issues.add("\(path)[\(index)]", "invalid_value", "must be \(allowed)")
                continue
            }
            if methods.contains(method) {
                issues.add("\(path)[\(index)]", "duplicate", "names \(method.rawValue) twice")
            }
            methods.append(method)
        }
        return methods
    }

    private static func senderInstitution(_ value: JSONValue, currency: Currency?, issues: inout ValidationCollector) -> String? {
        let root = "payment_method_options"
        guard let options = JSONObjectFields(value, at: root, allowed: ["bank_transfer"], issues: &issues),
            let bankTransfer = options.object("bank_transfer", allowed: ["sender_account"], issues: &issues),
            let sender = bankTransfer.object("sender_account", allowed: ["institution_id"], issues: &issues),
            let institution = sender.object("institution_id", allowed: ["value"], issues: &issues)
        else { return nil }
        let path = institution.path("value")
        guard let id = institution.fields["value"]?.stringValue else {
            issues.add(
                path, institution.fields["value"] == nil ? "required" : "invalid_type", "must be an institution id such as cl_banco_estado")
            return nil
        }
        if let currency, let problem = FintocInstitution.problem(with: id, currency: FintocCurrency(rawValue: currency.code)) {
            issues.add(path, "invalid_institution", problem)
        }
        return id
    }

    private static func businessName(_ value: JSONValue, issues: inout ValidationCollector) -> String? {
        guard let profile = JSONObjectFields(value, at: "business_profile", allowed: ["name"], issues: &issues) else { return nil }
        let path = profile.path("name")
        guard let name = profile.fields["name"]?.stringValue else {
            issues.add(
                path, profile.fields["name"] == nil ? "required" : "invalid_type", "must be the name the customer sees as the recipient")
            return nil
        }
        if name.trimmingWhitespace.isEmpty {
            issues.add(path, "required", "must not be blank")
        } else if name.unicodeScalars.count > maxBusinessNameLength {
            issues.add(path, "too_long", "must be at most \(maxBusinessNameLength) characters")
        } else if name.contains(where: \.isControlCharacter) {
            issues.add(path, "invalid_format", "must not contain control characters")
        }
        return name
    }
}

/// One JSON object of a request, its path, and the fields it may have: anything else is reported.
struct JSONObjectFields {
    let fields: [String: JSONValue]
    let at: String

    /// Nil (with an issue) when `value` is not an object; unknown fields are reported but the
    /// known ones are still read, so one answer lists every problem.
    init?(_ value: JSONValue, at path: String, allowed: Set<String>, issues: inout ValidationCollector) {
        guard case .object(let fields) = value else {
            issues.add(path, "invalid_type", "must be an object")
            return nil
        }
        for key in fields.keys.sorted() where !allowed.contains(key) {
            issues.add(
                ValidationCollector.join(path, key), "unknown_field",
                "is not a field here (expected \(allowed.sorted().joined(separator: ", ")))")
        }
        self.fields = fields
        self.at = path
    }

    func path(_ key: String) -> String { ValidationCollector.join(at, key) }

    /// The nested object `key`, required.
    func object(_ key: String, allowed: Set<String>, issues: inout ValidationCollector) -> JSONObjectFields? {
        guard let value = fields[key] else {
            issues.add(path(key), "required", "is required")
            return nil
        }
        return JSONObjectFields(value, at: path(key), allowed: allowed, issues: &issues)
    }
}

extension Optional where Wrapped == JSONValue {
    /// The value unless it is absent or JSON `null` (both mean "not given").
    var nonNull: JSONValue? {
        if case .some(let value) = self, value != .null { return value }
        return nil
    }
}
