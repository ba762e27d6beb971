/// Identifiers shaped like Fintoc's: a type prefix and random base62 (`cs_…`, `pi_…`, `evt_…`,
/// `we_…`, `re_…`, `cus_…`), secrets `whsec_…`, and tokens `<id>_sec_<random>`.
enum SandboxID {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    static func random(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet.randomElement(using: &generator)! })
    }

    static func make(_ prefix: String) -> String { "\(prefix)_\(random(24))" }

    static func checkoutSession() -> String { make("cs") }
    static func paymentIntent() -> String { make("pi") }
    static func event() -> String { make("evt") }
    static func webhookEndpoint() -> String { make("we") }
    static func refund() -> String { make("re") }
    static func customer() -> String { make("cus") }
    static func request() -> String { make("req") }
    static func delivery() -> String { make("whd") }
    static func webhookSecret() -> String { "whsec_\(random(32))" }
    static func token(for id: String) -> String { "\(id)_sec_\(random(24))" }

    /// Whether `text` could be an id or token the sandbox made (letters, digits, `_`), so text
    /// from a URL is never echoed into a header or a page otherwise.
    static func isWellFormed(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.count <= 128
            && text.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
            }
    }

    /// The object id a `<id>_sec_<random>` token opens, if it is shaped like one.
    static func objectID(ofToken token: String) -> String? {
        guard let range = token.range(of: "_sec_") else { return nil }
        let id = String(token[..<range.lowerBound])
        return id.isEmpty ? nil : id
    }
}
