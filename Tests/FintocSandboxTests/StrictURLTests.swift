import FintocSandbox
import Foundation
import HummingbirdTesting
import PaymentsCore
import Testing

/// The sandbox takes URLs by the gateway's rule (RFC 3986's characters only), with Fintoc's
/// `{CHECKOUT_SESSION_ID}` template as the one exception.
@Suite struct SandboxStrictURLTests {
    /// A JSON string literal of `text` (quotes, backslashes and controls escaped).
    static func literal(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed]), as: UTF8.self).dropFirst()
            .dropLast().description
    }

    @Test func badURLsAreRefusedWithTheParameter() async throws {
        try await withSandbox { client, _ in
            let bad = [
                #"https://a.example/s"><script>x</script>"#, "https://a.example/a b", "https://a.example/\n", "https://a.example/%zz",
                "https://a.example/é", "https://a.example/{x}",
            ]
            for url in bad {
                for (field, other) in [("success_url", "cancel_url"), ("cancel_url", "success_url")] {
                    let body =
                        #"{"amount": 1000, "currency": "CLP", "\#(field)": \#(Self.literal(url)), "\#(other)": "https://a.example/ok"}"#
                    let response = try await client.api(.post, "/v2/checkout_sessions", json: body)
                    #expect(response.status == .badRequest, "\(field) \(url.debugDescription)")
                    let error = try response.error()
                    #expect(error?["code"]?.string == "invalid_url", "\(response.text)")
                    #expect(error?["param"]?.string == field, "\(response.text)")
                }
            }
            let endpoint = try await client.api(
                .post, "/v1/webhook_endpoints", json: #"{"url": "https://a.example/hook\"x", "enabled_events": ["*"]}"#)
            #expect(endpoint.status == .badRequest)
            #expect(try endpoint.error()?["param"]?.string == "url")
        }
    }

    @Test func goodURLsAndFintocsTemplateAreAccepted() async throws {
        try await withSandbox { client, _ in
            let body =
                #"{"amount": 1000, "currency": "CLP", "success_url": "https://a.example:8443/ok?session={CHECKOUT_SESSION_ID}&q=caf%C3%A9#top", "cancel_url": "http://127.0.0.1:22001/cart"}"#
            let response = try await client.api(.post, "/v2/checkout_sessions", json: body)
            #expect(response.status == .created, "\(response.text)")
        }
    }
}
