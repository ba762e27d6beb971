import Fintoc
import FintocSandbox
import Foundation
import HummingbirdTesting
import Testing

/// `GET /v2/customers`: the tax id filters, and cursor pages in both directions with `Link`.
@Suite struct CustomerListTests {
    /// Creates a customer and answers its id.
    static func customer(_ client: any TestClientProtocol, _ json: String) async throws -> String {
        let response = try await client.api(.post, "/v2/customers", json: json)
        #expect(response.status == .created, "\(response.text)")
        return try #require(try response.json()["id"]?.string)
    }

    static func ids(_ response: TestResponse) throws -> [String] {
        try response.json().array?.compactMap { $0["id"]?.string } ?? []
    }

    @Test func filtersByTaxIDInAnySpellingAndByType() async throws {
        try await withSandbox { client, _ in
            let a = try await Self.customer(client, #"{"tax_id": {"type": "cl_rut", "value": "11.111.111-1"}}"#)
            let b = try await Self.customer(client, #"{"tax_id": {"type": "cl_rut", "value": "10.000.013-K"}}"#)
            let c = try await Self.customer(client, #"{"tax_id": {"type": "mx_rfc", "value": "XAXX010101000"}}"#)
            let d = try await Self.customer(client, #"{"email": "nobody@example.cl"}"#)
            let cases: [(String, [String])] = [
                ("", [d, c, b, a]),
                ("?tax_id=11.111.111-1", [a]),
                ("?tax_id=11111111-1", [a]),
                ("?tax_id=111111111", [a]),
                ("?tax_id=10000013k", [b]),
                ("?tax_id=10.000.013-K", [b]),
                ("?tax_id=xaxx010101000", [c]),
                ("?tax_id=XAXX010101000&tax_id_type=mx_rfc", [c]),
                ("?tax_id=11.111.111-1&tax_id_type=mx_rfc", []),
                ("?tax_id_type=cl_rut", [b, a]),
                ("?tax_id_type=mx_rfc", [c]),
                ("?tax_id=22.222.222-2", []),
                ("?tax_id=garbage", []),
            ]
            for (query, expected) in cases {
                let response = try await client.api(.get, "/v2/customers\(query)")
                #expect(response.status == .ok, "\(query)")
                #expect(try Self.ids(response) == expected, "\(query)")
                #expect(response.header("Link") == nil, "\(query): one page")
            }
            let bad = try await client.api(.get, "/v2/customers?tax_id_type=us_ssn")
            #expect(bad.status == .badRequest)
            #expect(try bad.error()?["param"]?.string == "tax_id_type")
        }
    }

    @Test func pagesByCursorBothWaysWithNextAndPrevLinks() async throws {
        try await withSandbox { client, _ in
            var made: [String] = []
            for index in 1...5 { made.append(try await Self.customer(client, #"{"email": "c\#(index)@example.cl"}"#)) }
            let newest = Array(made.reversed())  // c5, c4, c3, c2, c1

            let first = try await client.api(.get, "/v2/customers?limit=2")
            #expect(try Self.ids(first) == [newest[0], newest[1]])
            let firstLinks = APITests.links(first)
            #expect(firstLinks.keys.sorted() == ["next"], "no prev on the first page")
            #expect(
                firstLinks["next"]?.range(
                    of: #"^http://[^/]+/v2/customers\?limit=2&starting_after=cus_[A-Za-z0-9]+$"#, options: .regularExpression) != nil,
                "\(firstLinks)")

            let second = try await client.api(.get, APITests.pathAndQuery(try #require(firstLinks["next"])))
            #expect(try Self.ids(second) == [newest[2], newest[3]])
            let secondLinks = APITests.links(second)
            #expect(secondLinks["next"]?.hasSuffix("?limit=2&starting_after=\(newest[3])") == true)
            #expect(secondLinks["prev"]?.hasSuffix("?limit=2&ending_before=\(newest[2])") == true)

            let last = try await client.api(.get, APITests.pathAndQuery(try #require(secondLinks["next"])))
            #expect(try Self.ids(last) == [newest[4]])
            let lastLinks = APITests.links(last)
            #expect(lastLinks.keys.sorted() == ["prev"], "no next on the last page")

            let back = try await client.api(.get, APITests.pathAndQuery(try #require(lastLinks["prev"])))
            #expect(try Self.ids(back) == [newest[2], newest[3]], "prev leads back to the page before")
            let top = try await client.api(.get, "/v2/customers?limit=2&ending_before=\(newest[1])")
            #expect(try Self.ids(top) == [newest[0]], "ending_before near the top gives the shorter page above it")
            #expect(APITests.links(top).keys.sorted() == ["next"])

            var walked: [String] = []
            var next: String? = "/v2/customers?limit=2"
            while let uri = next {
                let page = try await client.api(.get, uri)
                walked += try Self.ids(page)
                next = APITests.links(page)["next"].map(APITests.pathAndQuery)
            }
            #expect(walked == newest, "following next visits every customer once, newest first")
        }
    }

    @Test func linksKeepTheFiltersAndTheDefaultPageIs30() async throws {
        try await withSandbox { client, _ in
            let bodies = (1...31).map { index -> String in
                let body = String(10_000_000 + index)
                let check = ChileanRUTTestDigits.checkDigit(body)
                return #"{"tax_id": {"type": "cl_rut", "value": "\#(body)-\#(check)"}}"#
            }
            for body in bodies { _ = try await Self.customer(client, body) }
            _ = try await Self.customer(client, #"{"tax_id": {"type": "mx_rfc", "value": "XAXX010101000"}}"#)

            let page = try await client.api(.get, "/v2/customers?tax_id_type=cl_rut")
            #expect(try Self.ids(page).count == 30, "30 a page by default")
            let next = try #require(APITests.links(page)["next"])
            #expect(next.contains("limit=30") && next.contains("tax_id_type=cl_rut"), "\(next)")
            let rest = try await client.api(.get, APITests.pathAndQuery(next))
            #expect(try Self.ids(rest).count == 1, "the filter holds on the next page: the RFC customer is not in it")

            let dotted = try await client.api(
                .get, "/v2/customers?tax_id=10.000.001-\(ChileanRUTTestDigits.checkDigit("10000001"))&limit=1")
            #expect(try Self.ids(dotted).count == 1)
            #expect(dotted.header("Link") == nil)
        }
    }

    @Test func badPageParametersAreRefused() async throws {
        try await withSandbox { client, _ in
            let id = try await Self.customer(client, #"{"email": "a@example.cl"}"#)
            for limit in ["0", "301", "abc", "-1", "2.5"] {
                let response = try await client.api(.get, "/v2/customers?limit=\(limit)")
                #expect(response.status == .badRequest, "\(limit)")
                #expect(try response.error()?["param"]?.string == "limit", "\(limit)")
                #expect(try response.error()?["message"]?.string?.contains("1 to 300") == true)
            }
            #expect(try await client.api(.get, "/v2/customers?limit=300").status == .ok)
            let both = try await client.api(.get, "/v2/customers?starting_after=\(id)&ending_before=\(id)")
            #expect(both.status == .badRequest)
            #expect(try both.error()?["param"]?.string == "ending_before")
            for cursor in ["starting_after", "ending_before"] {
                let unknown = try await client.api(.get, "/v2/customers?\(cursor)=cus_missing")
                #expect(unknown.status == .notFound)
                #expect(try unknown.error()?["code"]?.string == "missing_resource")
                #expect(try unknown.error()?["param"]?.string == cursor)
            }
        }
    }
}

/// Check digits for made-up RUT bodies, computed independently of the code under test.
enum ChileanRUTTestDigits {
    static func checkDigit(_ body: String) -> String {
        var sum = 0
        var weight = 2
        for character in body.reversed() {
            sum += (character.wholeNumberValue ?? 0) * weight
            weight = weight == 7 ? 2 : weight + 1
        }
        switch 11 - sum % 11 {
        case 11: return "0"
        case 10: return "K"
        case let digit: return String(digit)
        }
    }
}
