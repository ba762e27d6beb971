import Foundation
import Hummingbird

/// `/healthz`: the process answers. `/readyz`: it can do its work, every check passing (the
/// database answers, the broker connection is up), with each check's result in the body.
/// `/metrics`: the Prometheus text exposition. The last two belong on an admin listener only:
/// they show the business's volumes.
public struct HealthController: Sendable {
    /// One readiness check: its name in the `/readyz` body and whether it passes now.
    public struct Check: Sendable {
        public let name: String
        public let passes: @Sendable () async -> Bool

        public init(_ name: String, passes: @escaping @Sendable () async -> Bool) {
            self.name = name
            self.passes = passes
        }
    }

    let checks: [Check]
    let exposition: @Sendable () -> String

    public init(checks: [Check], exposition: @escaping @Sendable () -> String) {
        self.checks = checks
        self.exposition = exposition
    }

    /// `/healthz` alone, for a public listener.
    public func addLivenessRoute<Context: RequestContext>(to router: Router<Context>) {
        router.get("healthz") { _, _ in Self.json(200, ["status": "ok"]) }
    }

    /// `/healthz`, `/readyz` and `/metrics`, for the admin listener.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        addLivenessRoute(to: router)
        router.get("metrics") { [exposition] _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: exposition()))
            )
        }
        router.get("readyz") { [checks] _, _ in
            var body: [String: String] = [:]
            var ready = true
            for check in checks {
                let passes = await check.passes()
                body[check.name] = passes ? "ok" : "unavailable"
                ready = ready && passes
            }
            body["status"] = ready ? "ready" : "not_ready"
            return Self.json(ready ? 200 : 503, body)
        }
    }

    static func json(_ status: Int, _ body: [String: String]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
