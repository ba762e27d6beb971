import Fintoc
import Foundation
import Hummingbird

/// The headless control surface for tests, under `/sandbox` and authenticated with the secret
/// key: complete a payment with any outcome, set faults, read the delivery log and the events.
struct ControlController: Sendable {
    let api: APIRoutes

    func addRoutes(to router: Router<SandboxContext>) {
        let store = api.store
        let group = router.group("sandbox")

        group.post(
            "complete",
            use: api.handler { call in
                let body = try call.fields()
                let id = try body.requiredString("id")
                let text = try body.requiredString("outcome")
                guard let outcome = Outcome(rawValue: text) else {
                    throw SandboxError.invalidParameter(
                        "outcome", "outcome must be one of \(Outcome.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                let reason = try body.string("error_reason")
                return .json(try await store.complete(id: id, outcome: outcome, errorReason: reason))
            })

        group.get("faults", use: api.handler { _ in .encoded(await store.faults) })
        group.put(
            "faults",
            use: api.handler { call in
                let faults: Faults
                do {
                    faults = try JSONDecoder().decode(Faults.self, from: call.body.isEmpty ? Data("{}".utf8) : call.body)
                } catch {
                    throw SandboxError.invalidJSON(
                        "expected the faults object (duplicate, shuffle, delay_ms, fail_first, stale_signature, stale_seconds, wrong_secret, api_errors)"
                    )
                }
                if let problem = faults.validationError() { throw SandboxError.invalidParameter(problem.param, problem.message) }
                await store.setFaults(faults)
                return .encoded(faults)
            })
        group.delete(
            "faults",
            use: api.handler { _ in
                await store.setFaults(Faults())
                return .encoded(Faults())
            })

        group.get(
            "deliveries",
            use: api.handler { call in
                var deliveries = await store.allDeliveries()
                if let event = call.query("event_id") { deliveries = deliveries.filter { $0.eventID == event } }
                if let endpoint = call.query("endpoint_id") { deliveries = deliveries.filter { $0.endpointID == endpoint } }
                return .encoded(deliveries)
            })
        group.get(
            "events",
            use: api.handler { call in
                var events = await store.allEvents()
                if let type = call.query("type") { events = events.filter { $0.type.rawValue == type } }
                if let object = call.query("object_id") { events = events.filter { $0.data["id"]?.stringValue == object } }
                return .encoded(events)
            })
    }
}
