/// The one rule for a URL someone else hands us to send a customer to (a storefront's
/// `success_url` and `cancel_url`, a URL posted to the sandbox): an absolute `http` or `https` URL
/// written only with the characters RFC 3986 allows unencoded.
///
/// Why so strict: such a URL is copied into Fintoc's requests, into HTML attributes and into
/// `Location` headers. Foundation's parsers quietly percent-encode what they cannot read, so
/// `https://s.example/ok"><script>x</script>` would pass them; a character that is not in
/// RFC 3986's grammar is a sign of a URL assembled by string concatenation, and refusing it (with
/// the character named) is kinder to the storefront than a page that breaks later.
///
/// Accepted: RFC 3986's unreserved and reserved characters, and `%` followed by two hex digits.
/// Refused: spaces, `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`, control characters (with DEL),
/// an invalid percent-escape (`%zz`), and any non-ASCII character: this is a URL, not an IRI, so
/// `é` is written `%C3%A9` and an internationalised host in punycode (`xn--…`). `#` only once
/// (before the fragment), as RFC 3986's grammar says.
///
/// The structure is a subset of RFC 3986 that ``pattern`` states as a regular expression; the
/// OpenAPI document carries the same pattern, so a generated request and the server agree. The
/// one part of RFC 3986 left out is the IP-literal host (`http://[::1]/`): no shop sends its
/// customers to a bare IPv6 address, and checking one fully is more grammar than it is worth
/// (a loose check let `[e9dA6]` through, which Python's `urlsplit` rejects), so `[` and `]` are
/// refused everywhere.
public enum HTTPURLRule {
    /// The longest URL accepted, in characters (all ASCII, so also bytes).
    public static let maxLength = 2048

    /// ``problem(_:maxLength:)`` as an ECMA-262 / Python regular expression, for
    /// `schemas/openapi.yaml` (where its `'` is doubled by YAML's quoting).
    public static let pattern =
        #"^[Hh][Tt][Tt][Pp][Ss]?://(?:(?:[A-Za-z0-9._~!$&'()*+,;=:-]|%[0-9A-Fa-f]{2})*@)?"#
        + #"(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+(?::[0-9]*)?"#
        + #"(?:[/?](?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?"#
        + #"(?:#(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$"#

    /// Why `text` is not an absolute http(s) URL by this rule, for a person (it names the first
    /// offending character and how to write it), or nil when it is one.
    public static func problem(_ text: String, maxLength: Int = maxLength) -> String? {
        if let problem = characterProblem(text) { return problem }
        if text.utf8.count > maxLength { return "must be at most \(maxLength) characters" }
        let bytes = Array(text.utf8)
        if bytes.contains(where: isBracket) { return bracketProblem }
        return structureProblem(bytes)
    }

    /// The first character RFC 3986 never allows unencoded, or an invalid percent-escape.
    static func characterProblem(_ text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "%" {
                let escape = scalars[(index + 1)..<min(index + 3, scalars.count)]
                guard escape.count == 2, escape.allSatisfy(\.isHexDigit) else {
                    let shown = "%" + String(String.UnicodeScalarView(escape.prefix { $0.value >= 0x21 && $0.value < 0x7F }))
                    return "has an invalid percent-escape \"\(shown)\": % must be followed by two hex digits (write % itself as %25)"
                }
                index += 3
                continue
            }
            guard scalar.isASCII else {
                return
                    "must be ASCII (a URL, not an IRI): percent-encode U+\(hex(scalar.value, width: 4)) as \(percentEncoded(scalar)) (UTF-8), and write an international host in punycode (xn--…)"
            }
            guard isURICharacter(UInt8(scalar.value)) else {
                let code = "U+\(hex(scalar.value, width: 4))"
                let name =
                    switch scalar.value {
                    case 0..<0x20, 0x7F: "the control character \(code)"
                    case 0x20: "a space (\(code))"
                    default: "\(scalar) (\(code))"
                    }
                return "must not contain \(name) unencoded (RFC 3986); percent-encode it as \(percentEncoded(scalar))"
            }
            index += 1
        }
        return nil
    }

    /// `scheme://[userinfo@]host[:port][/path][?query][#fragment]`, every part with only the
    /// characters RFC 3986 allows there; called once every character is known to be allowed and
    /// none is a bracket.
    static func structureProblem(_ bytes: [UInt8]) -> String? {
        let absolute = "must be an absolute http or https URL with a host"
        let lowered = bytes.prefix(8).map { $0 | (($0 >= 0x41 && $0 <= 0x5A) ? 0x20 : 0) }
        let scheme: Int
        if lowered.starts(with: Array("https://".utf8)) {
            scheme = 8
        } else if lowered.starts(with: Array("http://".utf8)) {
            scheme = 7
        } else {
            return absolute
        }
        let rest = bytes[scheme...]
        let authorityEnd =
            rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.endIndex
        var hostStart = scheme
        if let at = rest[..<authorityEnd].firstIndex(of: UInt8(ascii: "@")) { hostStart = at + 1 }
        let hostPort = bytes[hostStart..<authorityEnd]
        let colon = hostPort.firstIndex(of: UInt8(ascii: ":"))
        let host = hostPort[..<(colon ?? hostPort.endIndex)]
        if host.contains(UInt8(ascii: "@")) { return "must not contain a second @ in the host; percent-encode it as %40" }
        guard !host.isEmpty else { return absolute }
        if let colon, !hostPort[(colon + 1)...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return "must have only digits in the port"
        }
        let tail = bytes[authorityEnd...]
        if tail.filter({ $0 == UInt8(ascii: "#") }).count > 1 {
            return "must contain # only once, before the fragment; percent-encode any other as %23"
        }
        return nil
    }

    private static let bracketProblem = "must not contain [ or ] (an IPv6 host is not taken); percent-encode them elsewhere (%5B, %5D)"

    private static func isBracket(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]") }

    /// RFC 3986 §2.2 and §2.3: reserved (gen-delims and sub-delims) and unreserved characters.
    /// `%` is handled by the caller, as the start of an escape.
    static func isURICharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: Array("-._~:/?#[]@!$&'()*+,;=".utf8).contains(byte)
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private static func percentEncoded(_ scalar: Unicode.Scalar) -> String {
        String(scalar).utf8.map { "%" + hex(UInt32($0), width: 2) }.joined()
    }
}

extension Unicode.Scalar {
    fileprivate var isHexDigit: Bool { isASCII && UInt8(value).isHexDigit }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
