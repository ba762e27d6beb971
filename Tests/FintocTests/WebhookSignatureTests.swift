import Foundation
import Testing

@testable import Fintoc

/// Vectors computed independently with `openssl dgst -sha256 -hmac SECRET` over
/// `"<t>." + body`, so the code is checked against another implementation, not against itself.
@Suite("Webhook signatures")
struct WebhookSignatureTests {
    static let body = Data(
        #"{"id":"evt_a4xK32BanKWYn","object":"event","type":"payment_intent.succeeded","data":{"id":"pi_1","amount":350000}}"#.utf8)
    static let timestamp: Int64 = 1_795_000_000
    static let now = Date(timeIntervalSince1970: 1_795_000_000)
    static let primary = "whsec_test_primary"
    static let rotated = "whsec_test_rotated"
    /// openssl: HMAC-SHA256(primary, "1795000000." + body)
    static let primarySignature = "7957db69d44d6142f6dd0f4f040bbf8183063d637bc48f786ea62dd82b2e8a6e"
    /// openssl: HMAC-SHA256(rotated, "1795000000." + body)
    static let rotatedSignature = "25772343edd81e62acb076dfb73217590a6bef69d7c69846b04817656526842e"

    @Test("signing matches openssl, including a non-ASCII secret and an empty body")
    func signingMatchesOpenSSL() {
        #expect(WebhookSigner(secret: Self.primary).signature(for: Self.body, timestamp: Self.timestamp) == Self.primarySignature)
        #expect(WebhookSigner(secret: Self.rotated).signature(for: Self.body, timestamp: Self.timestamp) == Self.rotatedSignature)
        #expect(
            WebhookSigner(secret: "clave-ñ").signature(for: Data(), timestamp: Self.timestamp)
                == "5552bb7d6ed3f97a72babb89963d2e0bae7bab6c4d90f50b7b55a104342264cf")
        #expect(
            WebhookSigner(secret: Self.primary).header(for: Self.body, timestamp: Self.timestamp)
                == "t=1795000000,v1=\(Self.primarySignature)")
    }

    @Test(
        "accepted header forms",
        arguments: [
            "t=1795000000,v1=\(primarySignature)",
            "v1=\(primarySignature),t=1795000000",
            " t = 1795000000 , v1 = \(primarySignature) ",
            "t=1795000000,v0=deadbeef,v1=\(primarySignature),scheme2=x=y",
            "t=1795000000,v1=\(String(repeating: "0", count: 64)),v1=\(primarySignature)",
            "t=1795000000,v1=\(primarySignature.uppercased())",
            "t=1795000000,v1=not-hex,v1=\(primarySignature)",
            "t=1795000000,,v1=\(primarySignature),junk",
        ])
    func accepted(header: String) throws {
        let verifier = WebhookVerifier(secrets: [Self.primary])
        #expect(try verifier.verify(body: Self.body, header: header, now: Self.now) == Self.now)
    }

    @Test("rotation: either configured secret, and either v1 value while Fintoc signs with both")
    func rotation() throws {
        let both = WebhookVerifier(secrets: [Self.rotated, Self.primary])
        try both.verify(body: Self.body, header: "t=1795000000,v1=\(Self.primarySignature)", now: Self.now)
        try both.verify(body: Self.body, header: "t=1795000000,v1=\(Self.rotatedSignature)", now: Self.now)
        let onlyNew = WebhookVerifier(secrets: [Self.rotated])
        try onlyNew.verify(body: Self.body, header: "t=1795000000,v1=\(Self.primarySignature),v1=\(Self.rotatedSignature)", now: Self.now)
        #expect(throws: WebhookSignatureError.noMatch) {
            try onlyNew.verify(body: Self.body, header: "t=1795000000,v1=\(Self.primarySignature)", now: Self.now)
        }
    }

    @Test("the tolerance holds in both directions and is configurable")
    func tolerance() throws {
        let header = "t=1795000000,v1=\(Self.primarySignature)"
        let verifier = WebhookVerifier(secrets: [Self.primary])
        try verifier.verify(body: Self.body, header: header, now: Self.now.addingTimeInterval(300))
        try verifier.verify(body: Self.body, header: header, now: Self.now.addingTimeInterval(-300))
        #expect(throws: WebhookSignatureError.stale(seconds: 301)) {
            try verifier.verify(body: Self.body, header: header, now: Self.now.addingTimeInterval(301))
        }
        #expect(throws: WebhookSignatureError.future(seconds: 301)) {
            try verifier.verify(body: Self.body, header: header, now: Self.now.addingTimeInterval(-301))
        }
        let strict = WebhookVerifier(secrets: [Self.primary], tolerance: 5)
        #expect(throws: WebhookSignatureError.stale(seconds: 6)) {
            try strict.verify(body: Self.body, header: header, now: Self.now.addingTimeInterval(6))
        }
        let lenient = WebhookVerifier(secrets: [Self.primary], tolerance: 86_400)
        try lenient.verify(body: Self.body, header: header, now: Self.now.addingTimeInterval(3_600))
    }

    @Test("a changed byte, a wrong secret or re-serialised JSON do not match")
    func tampering() {
        let verifier = WebhookVerifier(secrets: [Self.primary])
        let header = "t=1795000000,v1=\(Self.primarySignature)"
        var tampered = Self.body
        tampered[tampered.startIndex + 40] ^= 0x01
        #expect(throws: WebhookSignatureError.noMatch) { try verifier.verify(body: tampered, header: header, now: Self.now) }
        // One trailing space: openssl gives 31dd84…, which is not the header's signature.
        #expect(throws: WebhookSignatureError.noMatch) {
            try verifier.verify(body: Self.body + Data(" ".utf8), header: header, now: Self.now)
        }
        #expect(throws: WebhookSignatureError.noMatch) {
            try WebhookVerifier(secrets: ["whsec_other"]).verify(body: Self.body, header: header, now: Self.now)
        }
        #expect(throws: WebhookSignatureError.noMatch) {
            try verifier.verify(body: Self.body, header: "t=1795000001,v1=\(Self.primarySignature)", now: Self.now)
        }
        #expect(throws: WebhookSignatureError.noMatch) {
            try verifier.verify(body: Self.body, header: "t=1795000000,v1=\(Self.primarySignature.dropLast(2))", now: Self.now)
        }
    }

    @Test(
        "missing and malformed headers say what is wrong",
        arguments: [
            (nil, WebhookSignatureError.missingHeader),
            ("", .missingHeader),
            ("   ", .missingHeader),
            ("v1=\(primarySignature)", .malformed("no timestamp (t=)")),
            ("t=1795000000", .malformed("no v1 signature")),
            ("t=1795000000,v0=\(primarySignature)", .malformed("no v1 signature")),
            ("t=soon,v1=\(primarySignature)", .malformed("the timestamp is not a whole number of seconds")),
            ("t=1795000000,t=1795000000,v1=\(primarySignature)", .malformed("more than one timestamp")),
            ("garbage", .malformed("no timestamp (t=)")),
            ("t=-9223372036854775808,v1=00", .malformed("the timestamp is out of range")),
            ("t=9223372036854775807,v1=\(primarySignature)", .malformed("the timestamp is out of range")),
        ] as [(String?, WebhookSignatureError)])
    func malformed(header: String?, expected: WebhookSignatureError) {
        #expect(throws: expected) {
            try WebhookVerifier(secrets: [Self.primary]).verify(body: Self.body, header: header, now: Self.now)
        }
    }

    @Test("reasons are stable labels for metrics")
    func reasons() {
        #expect(WebhookSignatureError.missingHeader.reason == "missing_header")
        #expect(WebhookSignatureError.malformed("x").reason == "malformed")
        #expect(WebhookSignatureError.stale(seconds: 1).reason == "stale")
        #expect(WebhookSignatureError.future(seconds: 1).reason == "future")
        #expect(WebhookSignatureError.noMatch.reason == "no_match")
        #expect(!WebhookSignatureError.noMatch.description.contains(Self.primary))
    }
}
