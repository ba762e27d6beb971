import CobroTestSupport
import Foundation
import Testing

@testable import Gateway

/// The leases under which the gateway's singletons run, on both engines.
@Suite("Leases of the gateway's singletons")
struct LeaseTests {
    @Test(
        "one holder at a time; its holder renews it; a release frees it at once; a lapsed one goes to the next asker",
        arguments: StoreEngine.available)
    func oneHolderAtATime(_ engine: StoreEngine) async throws {
        let store = try await GatewayStore.openForTest(GatewayFixture.location(engine))
        #expect(try await store.takeLease("relay", holder: "a", for: .seconds(30)))
        #expect(try await !store.takeLease("relay", holder: "b", for: .seconds(30)), "held by a")
        #expect(try await store.takeLease("janitor", holder: "b", for: .seconds(30)), "each name is its own lease")
        #expect(try await store.takeLease("relay", holder: "a", for: .milliseconds(300)), "renewed by its holder")
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await store.takeLease("relay", holder: "b", for: .seconds(30)), "lapsed: taken over")
        #expect(try await !store.takeLease("relay", holder: "a", for: .seconds(30)), "the old holder does not get it back")
        try await store.releaseLease("relay", holder: "a")
        #expect(try await !store.takeLease("relay", holder: "a", for: .seconds(30)), "only the holder releases it")
        try await store.releaseLease("relay", holder: "b")
        #expect(try await store.takeLease("relay", holder: "a", for: .seconds(30)), "released: free at once")
    }

    @Test("a Lease asks the store at most once per renewal period, and says whether this process holds it")
    func leaseAnswersFromItsLastRenewal() async throws {
        let store = try await GatewayStore.openForTest(GatewayFixture.location(.sqlite))
        let metrics = GatewayMetrics()
        let terms = Lease.Terms(name: "outbox_relay", duration: .seconds(5), renewEvery: .seconds(1))
        let mine = Lease(terms, store: store, holder: "mine", metrics: metrics, logger: .init(label: "lease-test"))
        let theirs = Lease(terms, store: store, holder: "theirs", metrics: metrics, logger: .init(label: "lease-test"))
        #expect(await mine.isHeld())
        #expect(await !theirs.isHeld())
        #expect(metrics.exposition().contains(#"gateway_lease_held{name="outbox_relay"} 0"#), "the last answer in this registry")
        await mine.release()
        #expect(await !theirs.isHeld(), "the answer stands until the renewal period passes")
        try await Task.sleep(for: .milliseconds(1100))
        #expect(await theirs.isHeld(), "asked again: free, and taken")
        #expect(metrics.exposition().contains(#"gateway_lease_held{name="outbox_relay"} 1"#))
    }
}
