/// The sandbox's table of test values: which login, account or phone number gives which outcome.
///
/// Fintoc publishes only the happy path (the Chilean logins with `jonsnow`, account `422159212`,
/// Mexican phone `5555555555`); the failure values below are the sandbox's own, documented in
/// the README (The Fintoc sandbox).
public enum TestValues {
    /// What paying with a test value does.
    public enum Behavior: Sendable, Hashable {
        /// The payment ends like this at once.
        case immediately(Outcome, errorReason: String?)
        /// The payment is `pending`, then `succeeded` after the configured settle delay.
        case pendingThenSucceeded
    }

    public struct Account: Sendable, Hashable {
        public var number: String
        public var type: String
        public var label: String
        public var behavior: Behavior
    }

    public static let chileLogins: Set<String> = ["41614850-3", "40427672-7", "41579263-8"]
    public static let chilePassword = "jonsnow"

    public static let chileAccounts: [Account] = [
        .init(
            number: "422159212", type: "checking_account", label: "Cuenta Corriente (se completa en unos segundos)",
            behavior: .pendingThenSucceeded),
        .init(
            number: "813990168", type: "checking_account", label: "Cuenta Corriente (se aprueba al instante)",
            behavior: .immediately(.succeeded, errorReason: nil)),
        .init(
            number: "500000001", type: "sight_account", label: "Cuenta Vista (fondos insuficientes)",
            behavior: .immediately(.failed, errorReason: "insufficient_funds")),
        .init(
            number: "500000002", type: "checking_account", label: "Cuenta Corriente (autorización rechazada)",
            behavior: .immediately(.rejected, errorReason: "mfa_invalid_authorization")),
        .init(
            number: "500000003", type: "checking_account", label: "Cuenta Empresa (requiere un segundo aprobador)",
            behavior: .immediately(.requiresAction, errorReason: nil)),
        .init(
            number: "500000004", type: "checking_account", label: "Cuenta Corriente (queda pendiente)",
            behavior: .immediately(.pending, errorReason: nil)),
    ]

    public static let mexicoPhones: [Account] = [
        .init(number: "5555555555", type: "clabe", label: "se completa en unos segundos", behavior: .pendingThenSucceeded),
        .init(
            number: "5555555001", type: "clabe", label: "fondos insuficientes",
            behavior: .immediately(.failed, errorReason: "insufficient_funds")),
        .init(
            number: "5555555002", type: "clabe", label: "autorización rechazada",
            behavior: .immediately(.rejected, errorReason: "mfa_invalid_authorization")),
        .init(number: "5555555003", type: "clabe", label: "requiere una acción", behavior: .immediately(.requiresAction, errorReason: nil)),
        .init(number: "5555555004", type: "clabe", label: "queda pendiente", behavior: .immediately(.pending, errorReason: nil)),
    ]

    public struct Bank: Sendable, Hashable {
        public var id: String
        public var name: String
    }

    public static let chileBanks: [Bank] = [
        .init(id: "cl_banco_de_chile", name: "Banco de Chile"),
        .init(id: "cl_banco_estado", name: "BancoEstado"),
        .init(id: "cl_banco_santander", name: "Banco Santander"),
        .init(id: "cl_banco_bci", name: "Bci"),
        .init(id: "cl_banco_itau", name: "Itaú"),
        .init(id: "cl_banco_falabella", name: "Banco Falabella"),
        .init(id: "cl_banco_scotiabank", name: "Scotiabank"),
    ]

    public static let mexicoBanks: [Bank] = [
        .init(id: "mx_bbva", name: "BBVA México"),
        .init(id: "mx_banorte", name: "Banorte"),
        .init(id: "mx_santander", name: "Santander México"),
        .init(id: "mx_banamex", name: "Banamex"),
        .init(id: "mx_hsbc", name: "HSBC México"),
    ]

    static func banks(forCurrency currency: String) -> [Bank] {
        currency == "MXN" ? mexicoBanks : chileBanks
    }

    /// The bank a session pre-selects. One the sandbox does not list is still a bank: Fintoc adds
    /// institutions faster than this table, and a merchant's pre-selection must not break the
    /// flow, so it is shown by its id and the usual test logins pay through it.
    static func bank(id: String, currency: String) -> Bank {
        banks(forCurrency: currency).first { $0.id == id } ?? Bank(id: id, name: id)
    }

    // MARK: Cards

    /// A test card (`payment_method_types` with `card`). The numbers follow the conventions card
    /// processors' test modes share (4242…, 4000…0002), so a developer's habits carry over; any
    /// future expiry date and any three-digit CVC go with them.
    public struct Card: Sendable, Hashable {
        public var number: String
        public var brand: String
        public var behavior: Behavior
    }

    public static let cards: [Card] = [
        .init(number: "4242424242424242", brand: "Visa", behavior: .immediately(.succeeded, errorReason: nil)),
        .init(number: "5555555555554444", brand: "Mastercard", behavior: .immediately(.succeeded, errorReason: nil)),
        .init(number: "4000000000000002", brand: "Visa", behavior: .immediately(.failed, errorReason: "card_declined")),
        .init(number: "4000000000009995", brand: "Visa", behavior: .immediately(.failed, errorReason: "insufficient_funds")),
        .init(number: "4000000000000069", brand: "Visa", behavior: .immediately(.failed, errorReason: "expired_card")),
        .init(number: "4000000000000127", brand: "Visa", behavior: .immediately(.failed, errorReason: "incorrect_cvc")),
        .init(number: "4000000000003220", brand: "Visa", behavior: .immediately(.rejected, errorReason: "authentication_failed")),
        .init(number: "4000000000000077", brand: "Visa", behavior: .pendingThenSucceeded),
    ]

    /// Whether `digits` passes the Luhn check every card number carries, so a typo is caught on
    /// the form (as a real card form does) before it is looked up.
    static func passesLuhn(_ digits: String) -> Bool {
        guard (12...19).contains(digits.count), digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return false }
        var sum = 0
        for (index, character) in digits.reversed().enumerated() {
            guard var digit = character.wholeNumberValue else { return false }
            if index % 2 == 1 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return sum % 10 == 0
    }

    /// The normalised form of a RUT as typed (`41.614.850-3` → `41614850-3`).
    static func normalizedRUT(_ text: String) -> String {
        text.filter { !$0.isWhitespace && $0 != "." }.lowercased()
    }

    /// The next action shown for `requires_action`, in Spanish like the rest of the customer's
    /// side: the gateway passes the message on to the customer's email.
    static let requiresActionNextAction: [String: String] = [
        "type": "approve_in_bank",
        "message": "Un segundo representante de la empresa debe aprobar esta transferencia en el portal del banco.",
    ]
}
