import Fintoc
import PaymentsCore

/// The options a v2 session may carry besides the payment itself (seed 002), checked where
/// Fintoc would refuse them and echoed as sent: `payment_method_types`, a pre-selected bank in
/// `payment_method_options.bank_transfer.sender_account.institution_id.value`, and
/// `business_profile` (whose `name` the hosted page shows as the recipient).
struct CheckoutOptions: Sendable {
    static let methodTypes = ["bank_transfer", "card"]

    var paymentMethodTypes: [String]?
    var paymentMethodOptions: JSONValue?
    var businessProfile: JSONValue?

    static func parse(_ body: BodyFields, currency: FintocCurrency) throws(SandboxError) -> CheckoutOptions {
        var options = CheckoutOptions()
        if let items = try body.array("payment_method_types") {
            var methods: [String] = []
            for (index, item) in items.enumerated() {
                guard let text = item.stringValue, methodTypes.contains(text) else {
                    throw .invalidParameter(
                        "payment_method_types[\(index)]", "payment_method_types may hold \(methodTypes.joined(separator: " and ")).")
                }
                methods.append(text)
            }
            options.paymentMethodTypes = methods
        }
        if let methodOptions = try body.nested("payment_method_options") {
            try checkSenderInstitution(methodOptions, currency: currency)
            options.paymentMethodOptions = body.raw("payment_method_options")
        }
        if let profile = try body.nested("business_profile") {
            if profile.has("name") {
                guard let name = try profile.string("name"), !name.allSatisfy(\.isWhitespace) else {
                    throw .invalidParameter(
                        profile.name("name"),
                        "\(profile.name("name")) must be a non-empty string: the name the customer sees as the recipient.")
                }
            }
            options.businessProfile = body.raw("business_profile")
        }
        return options
    }

    /// `bank_transfer.sender_account.institution_id.value`: each level an object, the value a
    /// string naming a bank of the session currency's country.
    private static func checkSenderInstitution(_ methodOptions: BodyFields, currency: FintocCurrency) throws(SandboxError) {
        guard let transfer = try methodOptions.nested("bank_transfer"),
            let sender = try transfer.nested("sender_account"),
            let institution = try sender.nested("institution_id")
        else { return }
        let value = try institution.requiredString("value")
        if let problem = FintocInstitution.problem(with: value, currency: currency) {
            throw .invalidParameter(institution.name("value"), "\(institution.name("value")) \(problem).", code: "invalid_institution")
        }
    }
}

/// A payment intent's `recipient_account` (direct payments into one account), checked by the
/// rules the `Fintoc` module shares with its callers (`BankAccount.validateAsRecipient`) and
/// kept as sent.
enum RecipientAccount {
    static let param = "recipient_account"

    static func parse(_ body: BodyFields, currency: FintocCurrency) throws(SandboxError) -> BankAccount? {
        guard let fields = try body.nested(param) else { return nil }
        let account = BankAccount(
            holderID: try fields.string("holder_id"), number: try fields.string("number"),
            type: try fields.string("type"), institutionID: try fields.string("institution_id")
        )
        do {
            try account.validateAsRecipient(currency: currency, at: param)
        } catch {
            throw SandboxError(firstOf: error)
        }
        return account
    }
}

extension SandboxError {
    /// Fintoc names one parameter per error: the first issue found, as `missing_parameter` when
    /// a field is absent and under the issue's own code otherwise.
    init(firstOf error: ValidationError) {
        let issue = error.issues[0]
        if issue.code == "required" {
            self = .missingParameter(issue.path)
        } else {
            self = .invalidParameter(issue.path, "\(issue.path) \(issue.reason).", code: issue.code)
        }
    }
}
