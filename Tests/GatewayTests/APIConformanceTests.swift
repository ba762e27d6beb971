import CobroTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

@testable import Gateway

/// What scripts/check-api (schemathesis against schemas/openapi.yaml) found, pinned down against
/// a real HTTP server.
@Suite("Storefront API conformance")
struct APIConformanceTests {
    @Test(
        "a known path with a method it does not take is 405 with Allow, in the envelope",
        arguments: [
            (HTTPRequest.Method.put, "/v1/checkouts", "POST"),
            (.trace, "/healthz", "GET"),
            (.delete, "/v1/checkouts/chk_missing", "GET"),
            (.get, "/v1/checkouts/chk_missing/expire", "POST"),
            (.patch, "/v1/orders/ord-1", "GET"),
        ])
    func methodNotAllowed(method: HTTPRequest.Method, path: String, allow: String) async throws {
        let app = try await buildApplication(configuration: GatewayFixture.configuration())
        try await app.test(.live) { client in
            let response = try await client.execute(uri: path, method: method, headers: GatewayFixture.headers())
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == allow)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[.init("X-Request-Id")!]?.isEmpty == false)
            let error = try ErrorBody(response.body)
            #expect(error.error.type == "invalid_request_error")
            #expect(error.error.code == "method_not_allowed")
        }
    }

    @Test(
        "an unknown path is still 404 route_not_found, whatever the method",
        arguments: [
            (HTTPRequest.Method.get, "/v2/checkouts"),
            (.put, "/v1/checkouts/chk_1/expire/now"),
            (.trace, "/"),
        ])
    func unknownPath(method: HTTPRequest.Method, path: String) async throws {
        let app = try await buildApplication(configuration: GatewayFixture.configuration())
        try await app.test(.live) { client in
            let response = try await client.execute(uri: path, method: method, headers: GatewayFixture.headers())
            #expect(response.status == .notFound)
            #expect(response.headers[.allow] == nil)
            #expect(try ErrorBody(response.body).error.code == "route_not_found")
        }
    }

    @Test("the routes and schemas/openapi.yaml list the same paths and methods")
    func routesMatchTheOpenAPIDocument() async throws {
        let configuration = GatewayFixture.configuration()
        let app = try await buildApplication(configuration: configuration)
        try await app.test(.live) { client in
            // The table is derived from the router; a wrong method on each documented path is a
            // 405 listing exactly the documented methods. Paths with a `servers` of their own are
            // the admin listener's, and absent from the public port.
            let admin = try Self.adminPaths()
            for (path, methods) in try Self.documentedRoutes() {
                let concrete = path.split(separator: "/").map { RouteTable.isParameter($0) ? "x" : String($0) }.joined(separator: "/")
                if admin.contains(path) {
                    #expect(try await client.execute(uri: "/" + concrete, method: .get).status == .notFound, "\(path) on the public port")
                    let answer = try await AdminListener.get("/" + concrete, port: configuration.adminPort, method: .TRACE)
                    #expect(answer.status == 405, "\(path)")
                    #expect(
                        Set(
                            answer.headers["Allow"].flatMap { $0.split(separator: ",") }.map {
                                $0.trimmingCharacters(in: .whitespaces).lowercased()
                            })
                            == Set(methods), "\(path)")
                    continue
                }
                let response = try await client.execute(uri: "/" + concrete, method: .trace, headers: GatewayFixture.headers())
                #expect(response.status == .methodNotAllowed, "\(path)")
                #expect(
                    Set(response.headers[.allow]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? [])
                        == Set(methods), "\(path)")
            }
        }
    }

    /// The documented paths with a `servers` override: the gateway's admin listener.
    static func adminPaths() throws -> Set<String> {
        let text = try String(contentsOf: BrokerFixture.repositoryRoot.appendingPathComponent("schemas/openapi.yaml"), encoding: .utf8)
        var paths: Set<String> = []
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                current = String(line.dropFirst(2).dropLast())
            } else if !line.hasPrefix(" "), !line.isEmpty {
                current = nil
            } else if line == "    servers:", let path = current {
                paths.insert(path)
            }
        }
        return paths
    }

    /// `paths` of the OpenAPI document: each path with its lower-case methods, parameters as `{}`.
    static func documentedRoutes() throws -> [String: [String]] {
        let text = try String(contentsOf: BrokerFixture.repositoryRoot.appendingPathComponent("schemas/openapi.yaml"), encoding: .utf8)
        var routes: [String: [String]] = [:]
        var inPaths = false
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" {
                inPaths = true
                continue
            }
            guard inPaths else { continue }
            if !line.hasPrefix(" "), !line.isEmpty { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                current = String(line.dropFirst(2).dropLast())
                routes[current!] = []
            } else if let path = current, line.hasPrefix("    "), !line.hasPrefix("     "),
                let method = ["get", "post", "put", "patch", "delete"].first(where: { line == "    \($0):" })
            {
                routes[path]?.append(method)
            }
        }
        return routes
    }

    @Test("an amount over Fintoc's limit is a 400 naming it, not a 502 from Fintoc")
    func amountOverLimit() async throws {
        let app = try await buildApplication(configuration: GatewayFixture.configuration())
        try await app.test(.live) { client in
            let amount = Int(CheckoutRequest.maxAmount) + 1
            var body = GatewayFixture.checkoutBody(amount: amount)
            body["line_items"] = [["sku": "GOLD-1", "name": "Lingote", "quantity": 1, "unit_amount": amount]]
            let response = try await client.execute(
                uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(), body: GatewayFixture.json(body))
            #expect(response.status == .badRequest)
            let error = try ErrorBody(response.body)
            #expect(error.error.code == "too_large")
            #expect(error.error.param == "amount")
        }
    }

    @Test("a number no integer holds is a 400 saying so, not that the body is not JSON")
    func numberOutOfRange() async throws {
        let app = try await buildApplication(configuration: GatewayFixture.configuration())
        try await app.test(.live) { client in
            let text = String(decoding: try JSONSerialization.data(withJSONObject: GatewayFixture.checkoutBody()), as: UTF8.self)
                .replacingOccurrences(of: "350000", with: "20139649582599639040")
            #expect(text.contains("20139649582599639040"))
            let response = try await client.execute(
                uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(), body: ByteBuffer(string: text))
            #expect(response.status == .badRequest)
            #expect(try ErrorBody(response.body).error.code == "invalid_number")

            let notJSON = try await client.execute(
                uri: "/v1/checkouts", method: .post, headers: GatewayFixture.headers(), body: ByteBuffer(string: "{\"order_id\":"))
            #expect(notJSON.status == .badRequest)
            #expect(try ErrorBody(notJSON.body).error.code == "invalid_json")
        }
    }
}
