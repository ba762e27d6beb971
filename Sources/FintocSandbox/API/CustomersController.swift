import Fintoc
import Hummingbird

/// `/v2/customers`: create, get, and list filtered by tax id, paged by cursor in both
/// directions (`limit`, `starting_after`, `ending_before`).
struct CustomersController: Sendable {
    let api: APIRoutes

    static let listStyle = ListPages.Cursor(sizeParameter: "limit", backward: true, kept: ["tax_id", "tax_id_type"])

    func addRoutes(to router: Router<SandboxContext>) {
        let store = api.store
        let configuration = api.configuration

        let customers = router.group("v2/customers")
        customers.post(use: api.handler { call in .json(try await store.createCustomer(call.fields()), status: .created) })
        customers.get(
            use: api.handler { call in
                let items = try await store.listCustomers(taxID: call.query("tax_id"), taxIDType: call.query("tax_id_type"))
                return try ListPages.cursor(items, call, configuration: configuration, Self.listStyle)
            })
        customers.get(":id", use: api.handler { call in .json(try await store.customerJSON(call.id())) })
    }
}
