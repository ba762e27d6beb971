import CobroTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import PaymentsCore
import Testing

@testable import Gateway

/// Issue 14, part 4: every URL a storefront sends is an RFC 3986 URL, or a 400 naming the field.
@Suite("URLs a storefront sends")
struct StrictURLTests {
    /// The URL fields of `POST /v1/checkouts` (success_url and cancel_url are its only ones:
    /// business_profile carries a name, line items no image).
    static let fields = ["success_url", "cancel_url"]

    /// One URL of every refused class, and a word of the reason the answer must give.
    static let refused: [(name: String, url: String, reason: String)] = [
        ("markup after a quote", #"https://s.example/ok"><script>x</script>"#, "\""),
        ("angle brackets", "https://s.example/<b>", "<"),
        ("a space", "https://s.example/a b", "a space"),
        ("a backslash", #"https://s.example/a\b"#, #"\"#),
        ("braces", "https://s.example/{id}", "{"),
        ("a pipe", "https://s.example/a|b", "|"),
        ("a caret", "https://s.example/a^b", "^"),
        ("a backtick", "https://s.example/a`b", "`"),
        ("a line feed", "https://s.example/ok\nSet-Cookie: x=1", "control character U+000A"),
        ("a carriage return", "https://s.example/ok\r", "control character U+000D"),
        ("a NUL", "https://s.example/ok\u{0}", "control character U+0000"),
        ("DEL", "https://s.example/ok\u{7F}", "control character U+007F"),
        ("non-ASCII in the path", "https://s.example/pagó", "%C3%B3"),
        ("non-ASCII in the host", "https://ñandú.example/", "punycode"),
        ("an invalid percent-escape", "https://s.example/a%zz", "%zz"),
        ("a lone percent sign", "https://s.example/100%", "percent-escape"),
        ("brackets in the path", "https://s.example/a[0]", "[ or ]"),
        ("an IPv6 host", "http://[::1]:8080/ok", "IPv6 host is not taken"),
        ("two fragments", "https://s.example/a#b#c", "# only once"),
        ("a javascript URL", "javascript:alert(1)", "http or https"),
        ("no host", "https:///ok", "http or https"),
    ]

    @Test("each refused URL is a 400 invalid_url naming the field", arguments: fields)
    func refusedWithTheField(field: String) async throws {
        let app = try await buildApplication(configuration: GatewayFixture.configuration())
        try await app.test(.live) { client in
            for (name, url, reason) in Self.refused {
                var body = GatewayFixture.checkoutBody()
                body[field] = url
                let response = try await client.execute(
                    uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(), body: GatewayFixture.json(body))
                #expect(response.status == .badRequest, "\(field): \(name)")
                let error = try ErrorBody(response.body)
                #expect(error.error.type == "invalid_request_error", "\(field): \(name)")
                #expect(error.error.code == "invalid_url", "\(field): \(name): \(error.error)")
                #expect(error.error.param == field, "\(field): \(name): \(error.error)")
                #expect(error.error.message.hasPrefix("\(field): "), "\(field): \(name): \(error.error.message)")
                #expect(error.error.message.contains(reason), "\(field): \(name): \(error.error.message)")
            }
        }
    }

    @Test("both URLs bad: both fields are listed")
    func bothListed() async throws {
        var fields = GatewayFixture.checkoutBody()
        fields["success_url"] = "https://s.example/a b"
        fields["cancel_url"] = #"https://s.example/"x""#
        let body = GatewayFixture.json(fields)
        let app = try await buildApplication(configuration: GatewayFixture.configuration())
        try await app.test(.live) { client in
            let response = try await client.execute(uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(), body: body)
            #expect(response.status == .badRequest)
            let error = try ErrorBody(response.body)
            #expect(error.error.details?.map(\.param) == ["success_url", "cancel_url"])
            #expect(error.error.details?.allSatisfy { $0.code == "invalid_url" } == true)
        }
    }

    /// URLs RFC 3986 allows, each as success_url and cancel_url.
    static let accepted = [
        "https://shop.example/orders/ord-1001/paid?via=fintoc&ref=a%2Fb#receipt",
        "https://shop.example:8443/gracias",
        "http://127.0.0.1:22001/ok?x=1",
        "https://shop.example/search?q=caf%C3%A9",
        "HTTPS://Shop.Example/o/1;v=2/(x)!$&'*+,=:@~-._?a=b/c",
        "https://xn--and-6ma2c.example/",
    ]

    @Test("URLs with queries, escapes, ports and fragments are accepted as sent", arguments: accepted)
    func acceptedAsSent(url: String) throws {
        var body = GatewayFixture.checkoutBody()
        body["success_url"] = url
        body["cancel_url"] = url
        let request = try CheckoutRequest.parse(JSONSerialization.data(withJSONObject: body))
        #expect(request.successURL == url)
        #expect(request.cancelURL == url)
    }

    @Test("an accepted URL reaches the sandbox and comes back unchanged", .needsBroker, .tags(.broker))
    func throughTheStack() async throws {
        try await Stack.run { stack in
            var body = GatewayFixture.checkoutBody()
            body["success_url"] = "https://shop.example:8443/orders/1001/paid?via=fintoc&q=caf%C3%A9#receipt"
            body["cancel_url"] = "https://shop.example/cart?from=checkout"
            let response = try await stack.createCheckout(body)
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let created = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            #expect(created?["success_url"] as? String == body["success_url"] as? String)
            #expect(created?["cancel_url"] as? String == body["cancel_url"] as? String)
        }
    }
}
