import Foundation
import PaymentsCore
import Testing

/// The one URL rule (RFC 3986's characters only, absolute http(s) with a host), and its
/// agreement with the pattern `schemas/openapi.yaml` states for generated requests.
@Suite struct HTTPURLRuleTests {
    /// URLs a storefront may rightly send: queries, escapes, ports, fragments, user info, an
    /// IPv4 host, every sub-delimiter, the scheme in any case.
    static let good = [
        "https://shop.example/ok",
        "http://shop.example",
        "HTTPS://Shop.Example/Path",
        "https://shop.example:8443/orders/1001?paid=1&from=fintoc#receipt",
        "https://shop.example/search?q=caf%C3%A9&page=2",
        "https://shop.example/a%20b/%2Fc?x=%25",
        "https://shop.example/o/1;v=2/(x)!$&'*+,=:@~-._/?a=b?c/d",
        "https://user:pa%40ss@shop.example:80/",
        "http://127.0.0.1:22001/ok",
        "https://xn--and-6ma2c.example/",
        "https://shop.example:/empty-port",
        "https://shop.example/#",
        "https://shop.example?only=query",
    ]

    /// Every class of refused URL, with a piece of the reason a developer needs to fix it.
    static let bad: [(url: String, reason: String)] = [
        (#"https://s.example/ok"><script>x</script>"#, #"must not contain " (U+0022) unencoded"#),
        ("https://s.example/<b>", "< (U+003C)"),
        ("https://s.example/a>b", "> (U+003E)"),
        ("https://s.example/a b", "a space (U+0020)"),
        (#"https://s.example/a\b"#, #"\ (U+005C)"#),
        ("https://s.example/{id}", "{ (U+007B)"),
        ("https://s.example/a}", "} (U+007D)"),
        ("https://s.example/a|b", "| (U+007C)"),
        ("https://s.example/a^b", "^ (U+005E)"),
        ("https://s.example/a`b", "` (U+0060)"),
        ("https://s.example/a\nb", "the control character U+000A"),
        ("https://s.example/a\tb", "the control character U+0009"),
        ("https://s.example/a\u{0}b", "the control character U+0000"),
        ("https://s.example/a\u{7F}b", "the control character U+007F"),
        ("https://s.example/café", "percent-encode U+00E9 as %C3%A9"),
        ("https://tienda.ñandú.example/", "must be ASCII"),
        ("https://s.example/\u{200B}", "U+200B"),
        ("https://s.example/a%zz", #"invalid percent-escape "%zz""#),
        ("https://s.example/a%4", #"invalid percent-escape "%4""#),
        ("https://s.example/100%", #"invalid percent-escape "%""#),
        ("https://s.example/a[1]", "must not contain [ or ]"),
        ("https://s.example/a#b#c", "# only once"),
        ("http://[zz]/", "must not contain [ or ]"),
        ("http://[::1]:8080/ok", "an IPv6 host is not taken"),
        ("http://[e9dA6]/", "must not contain [ or ]"),
        ("https://s.example:80a/", "only digits in the port"),
        ("https://a@b@s.example/", "second @"),
        ("javascript:alert(1)", "absolute http or https URL"),
        ("ftp://s.example/x", "absolute http or https URL"),
        ("/relative/path", "absolute http or https URL"),
        ("https:///no-host", "absolute http or https URL"),
        ("https://:80/", "absolute http or https URL"),
        ("", "absolute http or https URL"),
        ("https://s.example/" + String(repeating: "a", count: 2048), "at most 2048 characters"),
    ]

    @Test func acceptsURLsRFC3986Allows() {
        for url in Self.good {
            #expect(HTTPURLRule.problem(url) == nil, "\(url): \(HTTPURLRule.problem(url) ?? "")")
            // What the rule accepts, Foundation reads with its host (the sandbox and Fintoc's
            // clients parse it again).
            #expect(URLComponents(string: url)?.host?.isEmpty == false, "\(url)")
        }
    }

    @Test func refusesEveryOtherCharacterWithTheReason() {
        for (url, reason) in Self.bad {
            let problem = HTTPURLRule.problem(url)
            #expect(problem?.contains(reason) == true, "\(url.debugDescription): \(problem ?? "accepted")")
        }
    }

    @Test func refusesEachCharacterOutsideRFC3986() {
        // Every ASCII character: those in RFC 3986's two sets pass in a path, the rest do not.
        // (Brackets are RFC 3986's too, but only around an IPv6 host, which is not taken.)
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?@!$&'()*+,;=".unicodeScalars)
        for value in UInt32(0)...0x7F {
            let scalar = Unicode.Scalar(value)!
            guard scalar != "%", scalar != "#" else { continue }
            let url = "https://s.example/a\(Character(scalar))b"
            #expect((HTTPURLRule.problem(url) == nil) == allowed.contains(scalar), "U+\(String(value, radix: 16))")
        }
    }

    /// The OpenAPI document states the same rule as a pattern, so schemathesis never sends as
    /// valid what the gateway refuses, nor as invalid what it takes.
    @Test func theOpenAPIPatternIsTheRule() throws {
        let openapi = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("schemas/openapi.yaml"), encoding: .utf8)
        let quoted = "pattern: '" + HTTPURLRule.pattern.replacingOccurrences(of: "'", with: "''") + "'"
        #expect(openapi.contains(quoted), "schemas/openapi.yaml's HttpUrl pattern differs from HTTPURLRule.pattern")

        let regex = try NSRegularExpression(pattern: HTTPURLRule.pattern)
        func matches(_ text: String) -> Bool {
            regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
        // Length is maxLength's business in both; the rest must agree case by case.
        for url in Self.good + Self.bad.map(\.url) where url.utf8.count <= HTTPURLRule.maxLength {
            #expect(matches(url) == (HTTPURLRule.problem(url) == nil), "\(url.debugDescription)")
        }
        // And on strings built from the URL alphabet's awkward corners.
        let pieces = ["http://", "HTTPS://", "a", "%41", "%4", "@", ":", "[", "]", "[::1]", "/", "?", "#", "9", "'", " ", "é", "."]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 1...7, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect(
                matches(text) == (HTTPURLRule.problem(text) == nil), "\(text.debugDescription): \(HTTPURLRule.problem(text) ?? "accepted")")
        }
    }
}
