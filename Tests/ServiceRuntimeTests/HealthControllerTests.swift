import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceRuntime
import Synchronization
import Testing

/// The health routes both services serve: liveness always, readiness from the checks, metrics.
@Suite struct HealthControllerTests {
    private final class Switch: Sendable {
        private let on = Mutex(true)
        var isOn: Bool { on.withLock { $0 } }
        func set(_ value: Bool) { on.withLock { $0 = value } }
    }

    @Test func readinessFollowsEveryCheckAndNamesTheOneThatFails() async throws {
        let broker = Switch()
        let health = HealthController(
            checks: [.init("database") { true }, .init("broker") { broker.isOn }],
            exposition: { "cobro_up 1\n" }
        )
        let router = Router()
        health.addRoutes(to: router)
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: String]
                #expect(body == ["status": "ready", "database": "ok", "broker": "ok"])
            }
            broker.set(false)
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: String]
                #expect(body == ["status": "not_ready", "database": "ok", "broker": "unavailable"])
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4")
                #expect(String(buffer: response.body) == "cobro_up 1\n")
            }
        }
    }

    @Test func theLivenessRouteAloneServesNoReadinessOrMetrics() async throws {
        let health = HealthController(checks: [], exposition: { "" })
        let router = Router()
        health.addLivenessRoute(to: router)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .notFound) }
        }
    }
}
