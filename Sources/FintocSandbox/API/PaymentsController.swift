import Fintoc
import Hummingbird

/// `/v2/checkout_sessions`, `/v1/checkout_sessions` and `/v1/payment_intents`: create, get, list,
/// expire.
struct PaymentsController: Sendable {
    let api: APIRoutes

    func addRoutes(to router: Router<SandboxContext>) {
        let store = api.store
        let configuration = api.configuration

        let v2 = router.group("v2/checkout_sessions")
        v2.post(use: api.handler { call in .json(try await store.createSessionV2(call.fields()), status: .created) })
        v2.get(use: api.handler { call in try ListPages.cursor(await store.listSessions(.v2), call, configuration: configuration) })
        v2.get(":id", use: api.handler { call in .json(try await store.sessionJSON(call.id())) })
        v2.post(":id/expire", use: api.handler { call in .json(try await store.expireSession(call.id())) })

        let v1 = router.group("v1/checkout_sessions")
        v1.post(use: api.handler { call in .json(try await store.createSessionV1(call.fields()), status: .created) })
        v1.get(
            use: api.handler { call in try ListPages.paged(await store.listSessions(.v1).map(\.json), call, configuration: configuration) })
        v1.get(":id", use: api.handler { call in .json(try await store.sessionJSON(call.id())) })
        v1.post(":id/expire", use: api.handler { call in .json(try await store.expireSession(call.id())) })

        let intents = router.group("v1/payment_intents")
        intents.post(use: api.handler { call in .json(try await store.createIntent(call.fields()), status: .created) })
        intents.get(use: api.handler { call in try ListPages.paged(await store.listIntents(), call, configuration: configuration) })
        intents.get(":id", use: api.handler { call in .json(try await store.intentJSON(call.id())) })
        intents.post(":id/expire", use: api.handler { call in .json(try await store.expireIntent(call.id())) })
    }
}

/// `/v1/webhook_endpoints` (create with the secret shown once, get, list, update, delete, test)
/// and `/v1/refunds` (create, get, list).
struct ResourcesController: Sendable {
    let api: APIRoutes

    func addRoutes(to router: Router<SandboxContext>) {
        let store = api.store
        let configuration = api.configuration

        let endpoints = router.group("v1/webhook_endpoints")
        endpoints.post(use: api.handler { call in .json(try await store.createEndpoint(call.fields()), status: .created) })
        endpoints.get(use: api.handler { call in try ListPages.paged(await store.listEndpoints(), call, configuration: configuration) })
        endpoints.get(":id", use: api.handler { call in .json(try await store.endpointJSON(call.id())) })
        endpoints.patch(":id", use: api.handler { call in .json(try await store.updateEndpoint(call.id(), call.fields())) })
        endpoints.post(":id", use: api.handler { call in .json(try await store.updateEndpoint(call.id(), call.fields())) })
        endpoints.delete(":id", use: api.handler { call in .json(try await store.deleteEndpoint(call.id())) })
        endpoints.post(":id/test", use: api.handler { call in .json(try await store.testEndpoint(call.id())) })

        let refunds = router.group("v1/refunds")
        refunds.post(use: api.handler { call in .json(try await store.createRefund(call.fields()), status: .created) })
        refunds.get(use: api.handler { call in try ListPages.paged(await store.listRefunds(), call, configuration: configuration) })
        refunds.get(":id", use: api.handler { call in .json(try await store.refundJSON(call.id())) })
    }
}
