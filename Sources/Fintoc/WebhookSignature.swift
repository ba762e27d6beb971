import Crypto
import Foundation

/// Signs a webhook body the way Fintoc does: header `Fintoc-Signature: t=<unix>,v1=<hex>` where
/// `v1` is the lower-case hex HMAC-SHA256, keyed with the secret's UTF-8 bytes, of
/// `"<t>." + <raw body>`.
public struct WebhookSigner: Sendable {
    public static let headerName = "Fintoc-Signature"

    private let key: SymmetricKey

    public init(secret: String) {
        key = SymmetricKey(data: Data(secret.utf8))
    }

    /// The lower-case hex signature of `body` at `timestamp`.
    public func signature(for body: some DataProtocol, timestamp: Int64) -> String {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Data("\(timestamp).".utf8))
        mac.update(data: body)
        return mac.finalize().hexString
    }

    /// The full header value, e.g. `t=1732170000,v1=5257a8…`.
    public func header(for body: some DataProtocol, timestamp: Int64) -> String {
        "t=\(timestamp),v1=\(signature(for: body, timestamp: timestamp))"
    }
}

/// Verifies `Fintoc-Signature` headers over the raw request bytes.
///
/// Parsing is lenient, as Fintoc's SDKs are: parts split on `,`, each on its first `=`, spaces
/// trimmed, schemes other than `v1` ignored. Any `v1` value matching any configured secret
/// accepts (several appear while a secret rotates; several secrets are configured for the same
/// reason). Comparison is constant-time; the timestamp must be within `tolerance` of now in
/// either direction.
public struct WebhookVerifier: Sendable {
    public static let defaultTolerance: TimeInterval = 300

    private let keys: [SymmetricKey]
    public let tolerance: TimeInterval

    /// `secrets` must not be empty; `tolerance` is in seconds and must be positive.
    public init(secrets: [String], tolerance: TimeInterval = WebhookVerifier.defaultTolerance) {
        precondition(!secrets.isEmpty, "a verifier needs at least one secret")
        precondition(tolerance > 0, "the tolerance must be positive")
        keys = secrets.map { SymmetricKey(data: Data($0.utf8)) }
        self.tolerance = tolerance
    }

    /// Returns the signed timestamp when `header` signs `body`; throws the reason otherwise.
    @discardableResult
    public func verify(body: some DataProtocol, header: String?, now: Date = Date()) throws(WebhookSignatureError) -> Date {
        guard let header, !header.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .missingHeader
        }
        let parsed = try ParsedSignatureHeader(header)
        let signedAt = Date(timeIntervalSince1970: TimeInterval(parsed.timestamp))
        let age = now.timeIntervalSince(signedAt)
        if age > tolerance { throw .stale(seconds: Int64(age)) }
        if -age > tolerance { throw .future(seconds: Int64(-age)) }

        var message = Data("\(parsed.timestamp).".utf8)
        message.append(contentsOf: body)
        for candidate in parsed.signatures {
            for key in keys where HMAC<SHA256>.isValidAuthenticationCode(candidate, authenticating: message, using: key) {
                return signedAt
            }
        }
        throw .noMatch
    }
}

/// Why a webhook's signature was refused; `reason` is the stable label used in metrics.
public enum WebhookSignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    case missingHeader
    case malformed(String)
    case stale(seconds: Int64)
    case future(seconds: Int64)
    case noMatch

    public var reason: String {
        switch self {
        case .missingHeader: "missing_header"
        case .malformed: "malformed"
        case .stale: "stale"
        case .future: "future"
        case .noMatch: "no_match"
        }
    }

    public var description: String {
        switch self {
        case .missingHeader: "the Fintoc-Signature header is missing"
        case .malformed(let detail): "the Fintoc-Signature header is malformed: \(detail)"
        case .stale(let seconds): "the signature timestamp is \(seconds) s old, past the tolerance"
        case .future(let seconds): "the signature timestamp is \(seconds) s in the future, past the tolerance"
        case .noMatch: "no v1 signature matches the body with any configured secret"
        }
    }
}

/// The parts of a `t=…,v1=…` header.
struct ParsedSignatureHeader {
    static let latestTimestamp: Int64 = 100_000_000_000

    let timestamp: Int64
    /// Decoded `v1` values; values that are not hex never match and are dropped here.
    let signatures: [[UInt8]]

    init(_ header: String) throws(WebhookSignatureError) {
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        var sawV1 = false
        for part in header.split(separator: ",") {
            guard let equals = part.firstIndex(of: "=") else { continue }
            let scheme = part[..<equals].trimmingCharacters(in: .whitespaces)
            let value = part[part.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            switch scheme {
            case "t":
                guard timestamp == nil else { throw .malformed("more than one timestamp") }
                guard let seconds = Int64(value) else { throw .malformed("the timestamp is not a whole number of seconds") }
                // Unix seconds from 1970 to the year 5138: anything else is no signing time, and
                // far-off values would overflow the age computed from it.
                guard (0...Self.latestTimestamp).contains(seconds) else { throw .malformed("the timestamp is out of range") }
                timestamp = seconds
            case "v1":
                sawV1 = true
                if let bytes = [UInt8](hex: value), bytes.count == SHA256.byteCount {
                    signatures.append(bytes)
                }
            default:
                continue
            }
        }
        guard let timestamp else { throw .malformed("no timestamp (t=)") }
        guard sawV1 else { throw .malformed("no v1 signature") }
        self.timestamp = timestamp
        self.signatures = signatures
    }
}

extension [UInt8] {
    /// Bytes from hex text (either case); nil for anything else.
    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard !digits.isEmpty, digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension HashedAuthenticationCode {
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(byteCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
