import Fintoc
import Foundation
import HummingbirdTesting
import Synchronization
import Testing

@testable import FintocSandbox

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

    @Test func anUnauthenticatedCallDoesNotUseUpAnInjectedFailure() async throws {
        try await withSandbox { client, _ in
            try await client.setFaults(#"{"api_errors": [{"status": 503, "count": 1}]}"#)
            let stray = try await client.api(.get, "/v1/payment_intents", key: nil)
            #expect(stray.status == .unauthorized)
            let real = try await client.api(.get, "/v1/payment_intents")
            #expect(real.status == .serviceUnavailable, "the fault was still there for the authenticated call")
            #expect(try await client.api(.get, "/v1/payment_intents").status == .ok)
        }
    }

    @Test func theHostedPageRendersAHugeLineWithoutTrapping() {
        let line = FintocLineItem(quantity: .max, priceData: .init(currency: .clp, unitAmount: 2, productData: .init(name: "x")))
        #expect(CustomerFlowController.lineTotal(line, currency: "CLP") == "—")
        let fine = FintocLineItem(quantity: 2, priceData: .init(currency: .clp, unitAmount: 175_000, productData: .init(name: "x")))
        #expect(CustomerFlowController.lineTotal(fine, currency: "CLP") == "$350.000 CLP")
    }
}

/// A sandbox left running (local stack, benchmarks) stays bounded.
@Suite struct BoundedStateTests {
    @Test func logsKeepTheirLimitAndExpiredKeysArePruned() async throws {
        var log = Array(0..<(SandboxStore.logLimit + SandboxStore.logLimit / 10 + 1))
        SandboxStore.trim(&log, to: SandboxStore.logLimit)
        #expect(log.count == SandboxStore.logLimit && log.first == SandboxStore.logLimit / 10 + 1)

        let clock = Mutex(Date(timeIntervalSince1970: 1_795_000_000))
        let store = SandboxStore(configuration: testConfiguration(), now: { clock.withLock { $0 } })
        func proceeds(_ decision: IdempotencyDecision) -> Bool { if case .proceed = decision { true } else { false } }
        #expect(proceeds(await store.beginIdempotent(key: "k", fingerprint: "a")))
        #expect(!proceeds(await store.beginIdempotent(key: "k", fingerprint: "b")))
        clock.withLock { $0 = $0.addingTimeInterval(SandboxStore.idempotencyRetention + 1) }
        #expect(proceeds(await store.beginIdempotent(key: "k", fingerprint: "b")), "a forgotten key is free")
        await store.pruneExpired(now: clock.withLock { $0 }.addingTimeInterval(SandboxStore.idempotencyRetention + 1))
        #expect(await store.idempotency.isEmpty)
    }
}
