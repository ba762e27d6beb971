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
        .init(number: "422159212", type: "checking_account", label: "Cuenta Corriente (completes after a few seconds)", behavior: .pendingThenSucceeded),
        .init(number: "813990168", type: "checking_account", label: "Cuenta Corriente (succeeds at once)", behavior: .immediately(.succeeded, errorReason: nil)),
        .init(number: "500000001", type: "sight_account", label: "Cuenta Vista (insufficient funds)", behavior: .immediately(.failed, errorReason: "insufficient_funds")),
        .init(number: "500000002", type: "checking_account", label: "Cuenta Corriente (MFA rejected)", behavior: .immediately(.rejected, errorReason: "mfa_invalid_authorization")),
        .init(number: "500000003", type: "checking_account", label: "Cuenta Empresa (requires a second approver)", behavior: .immediately(.requiresAction, errorReason: nil)),
        .init(number: "500000004", type: "checking_account", label: "Cuenta Corriente (stays pending)", behavior: .immediately(.pending, errorReason: nil)),
    ]

    public static let mexicoPhones: [Account] = [
        .init(number: "5555555555", type: "clabe", label: "completes after a few seconds", behavior: .pendingThenSucceeded),
        .init(number: "5555555001", type: "clabe", label: "insufficient funds", behavior: .immediately(.failed, errorReason: "insufficient_funds")),
        .init(number: "5555555002", type: "clabe", label: "authorization rejected", behavior: .immediately(.rejected, errorReason: "mfa_invalid_authorization")),
        .init(number: "5555555003", type: "clabe", label: "requires action", behavior: .immediately(.requiresAction, errorReason: nil)),
        .init(number: "5555555004", type: "clabe", label: "stays pending", behavior: .immediately(.pending, errorReason: nil)),
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

    /// The normalised form of a RUT as typed (`41.614.850-3` → `41614850-3`).
    static func normalizedRUT(_ text: String) -> String {
        text.filter { !$0.isWhitespace && $0 != "." }.lowercased()
    }

    /// The next action shown for `requires_action`.
    static let requiresActionNextAction: [String: String] = [
        "type": "approve_in_bank",
        "message": "A second representative of the company must approve this transfer in the bank's portal.",
    ]
}
