import Fintoc
@testable import FintocSandbox
import Foundation
import HummingbirdTesting
import Testing

/// Inputs that once crashed the sandbox process; each must be answered, never trap.
@Suite struct HostileInputTests {
    @Test func aPageNumberFarPastTheEndAnswersAnEmptyPage() async throws {
        try await withSandbox { client, _ in
            _ = try await client.createIntent()
            for path in ["/v1/payment_intents", "/v1/checkout_sessions", "/v1/refunds", "/v1/webhook_endpoints"] {
                let response = try await client.api(.get, "\(path)?page=\(Int.max)")
                #expect(response.status == .ok, "\(path)")
                #expect(try response.json() == .array([]))
                #expect(response.header("Link")?.contains("rel=\"first\"") == true)
            }
        }
    }

    @Test func aLineWhoseTotalOverflowsIsRefusedAtCreate() async throws {
        try await withSandbox { client, _ in
            let body = #"""
            {"amount": 1000, "currency": "CLP", "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no",
             "line_items": [{"quantity": 1000000000000, "price_data": {"currency": "CLP", "unit_amount": 1000000000000, "product_data": {"name": "x"}}}]}
            """#
            let response = try await client.api(.post, "/v2/checkout_sessions", json: body, idempotencyKey: "overflow")
            #expect(response.status == .badRequest)
            #expect(try response.error()?["code"] == "invalid_amount")
            #expect(try response.error()?["param"] == "line_items[0].quantity")
        }
    }

    @Test func theHostedPageRendersAHugeLineWithoutTrapping() {
        let line = FintocLineItem(quantity: .max, priceData: .init(currency: .clp, unitAmount: 2, productData: .init(name: "x")))
        #expect(CustomerFlowController.lineTotal(line, currency: "CLP") == "—")
        let fine = FintocLineItem(quantity: 2, priceData: .init(currency: .clp, unitAmount: 175_000, productData: .init(name: "x")))
        #expect(CustomerFlowController.lineTotal(fine, currency: "CLP") == "$350.000 CLP")
    }
}
