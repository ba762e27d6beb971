import CobroTestSupport
import Foundation
import PaymentsCore
import PropertyBased
import Testing

@testable import Gateway

/// The state machine and the store's webhook path, driven with realistic Fintoc histories in
/// every order and with redeliveries, on a real SQLite file and a real PostgreSQL database.
@Suite("Webhook state machine")
struct WebhookStateTests {
    /// The facts of each event of a scenario, as the normaliser reads them.
    static func facts(_ scenario: Scenario) throws -> [[PaymentFact]] {
        try scenario.events.map { try WebhookNormaliser.normalise($0).facts }
    }

    static func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { index -> [[T]] in
            var rest = items
            let first = rest.remove(at: index)
            return permutations(rest).map { [first] + $0 }
        }
    }

    @Test(
        "every permutation of each scenario's events, in the pure machine, ends in the same state with the same event types",
        arguments: Scenario.all)
    func everyPermutationOfPureMachine(_ scenario: Scenario) throws {
        let facts = try Self.facts(scenario)
        var outcomes: Set<String> = []
        for order in Self.permutations(Array(facts.indices)) {
            var machine = CheckoutStateMachine(
                checkoutID: Scenario.checkoutID, ui: scenario.ui, status: .created, attempts: [:],
                sessionFinished: false, orderPaidBy: nil, needsReview: false
            )
            var types: Set<EventType> = []
            for index in order {
                let step = machine.apply(facts[index], authoritative: false)
                #expect(step.outcome != .contradiction, "\(scenario.name): \(order): \(step.detail ?? "")")
                types.formUnion(step.emissions.map(\.type))
            }
            #expect(machine.status == scenario.status, "\(scenario.name) in order \(order)")
            #expect(types == scenario.types, "\(scenario.name) in order \(order)")
            #expect(!machine.needsReview)
            outcomes.insert("\(machine.status)")
        }
        #expect(outcomes.count == 1)
    }

    @Test(
        "any order, each event delivered one to three times, through the store: same final state, same domain events, each once",
        arguments: StoreEngine.available)
    func permutationsWithRedeliveryThroughTheStore(_ engine: StoreEngine) async throws {
        await propertyCheck(
            count: engine == .sqlite ? 60 : 20, input: Gen.int(in: 0...(Scenario.all.count - 1)),
            Gen.int(in: 0...999_999).array(of: 12...12)
        ) {
            index, keys in
            let scenario = Scenario.all[index]
            var deliveries: [(key: Int, body: Data)] = []
            for (position, body) in scenario.events.enumerated() {
                let copies = keys[position] % 3 + 1
                for copy in 0..<copies {
                    deliveries.append(((keys[(position + copy * 5) % keys.count] &* 31 &+ copy * 7) % 1_000_003, body))
                }
            }
            deliveries.sort { $0.key < $1.key }
            do {
                let store = try await StoreFixture(engine, ui: scenario.ui, providerID: scenario.providerID)
                var duplicates = 0
                for delivery in deliveries {
                    if try await store.deliver(delivery.body) == .duplicate { duplicates += 1 }
                }
                #expect(duplicates == deliveries.count - scenario.events.count, "every redelivery is recognised")
                let checkout = try await store.checkout()
                #expect(checkout.status == scenario.status, "\(scenario.name)")
                #expect(checkout.reviewSince == nil, "\(scenario.name)")
                let ids = try await store.eventIDs()
                #expect(Set(ids).count == ids.count)
                #expect(try await store.eventTypes() == scenario.types, "\(scenario.name)")
                #expect(try await store.order().status == (scenario.status == .succeeded ? .paid : .open))
            } catch {
                Issue.record("\(scenario.name): \(error)")
            }
        }
    }

    @Test(
        "a payment that failed cannot also succeed: recorded as a contradiction, nothing published, checkout marked for review",
        arguments: StoreEngine.available)
    func contradictionIsNotPublished(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine, ui: .paymentIntent, providerID: Scenario.widgetIntent)
        try await store.deliver(
            FintocEvents.event(
                type: "payment_intent.failed",
                data: FintocEvents.intent(Scenario.widgetIntent, status: "failed", checkout: nil, reason: "insufficient_funds")))
        let outcome = try await store.deliver(
            FintocEvents.event(
                type: "payment_intent.succeeded", data: FintocEvents.intent(Scenario.widgetIntent, status: "succeeded", checkout: nil)))
        guard case .recorded(.contradiction, _, 0, true) = outcome else {
            Issue.record("expected a contradiction, got \(outcome)")
            return
        }
        #expect(try await store.checkout().status == .failed)
        #expect(try await store.checkout().reviewSince != nil)
        #expect(try await store.eventTypes() == [.paymentFailed])

        // Reconciliation reads Fintoc's own answer, which settles it.
        let settled = try await store.deliver(
            FintocEvents.event(
                type: "payment_intent.succeeded", data: FintocEvents.intent(Scenario.widgetIntent, status: "succeeded", checkout: nil)),
            source: .reconciliation)
        guard case .recorded(.applied, _, 1, false) = settled else {
            Issue.record("expected the reconciled fact applied, got \(settled)")
            return
        }
        #expect(try await store.checkout().status == .succeeded)
        #expect(try await store.checkout().reviewSince == nil)
        #expect(try await store.order().status == .paid)
    }

    @Test(
        "money for an expired checkout is not believed from a webhook; Fintoc's answer makes it a payment", arguments: StoreEngine.available
    )
    func successAfterExpiry(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine, ui: .redirect, providerID: Scenario.sessionID)
        try await store.deliver(
            FintocEvents.event(
                type: "checkout_session.expired",
                data: FintocEvents.session(Scenario.sessionID, status: "expired", checkout: Scenario.checkoutID)))
        let late = FintocEvents.intent("pi_late", status: "succeeded", checkout: Scenario.checkoutID)
        guard
            case .recorded(.contradiction, _, 0, true) = try await store.deliver(
                FintocEvents.event(type: "payment_intent.succeeded", data: late))
        else {
            Issue.record("expected a contradiction")
            return
        }
        #expect(try await store.eventTypes() == [.checkoutExpired])
        try await store.deliver(
            FintocEvents.event(
                type: "checkout_session.finished",
                data: FintocEvents.session(Scenario.sessionID, status: "finished", checkout: Scenario.checkoutID, intent: late)),
            source: .reconciliation)
        #expect(try await store.eventTypes() == [.checkoutExpired, .paymentSucceeded])
        #expect(try await store.checkout().status == .succeeded)
    }

    @Test("a second paid checkout of a paid order is payment.duplicate, never a second payment.succeeded", arguments: StoreEngine.available)
    func secondPaymentIsDuplicate(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine, ui: .paymentIntent, providerID: "pi_first")
        try await store.addCheckout(
            ui: .paymentIntent, providerID: "pi_second", checkoutID: "chk_second", orderID: Scenario.orderID, attempt: 2)
        try await store.deliver(
            FintocEvents.event(type: "payment_intent.succeeded", data: FintocEvents.intent("pi_first", status: "succeeded", checkout: nil)))
        try await store.deliver(
            FintocEvents.event(type: "payment_intent.succeeded", data: FintocEvents.intent("pi_second", status: "succeeded", checkout: nil))
        )
        #expect(
            try await store.eventIDs() == ["shop/\(Scenario.orderID)/payment.succeeded/1", "shop/\(Scenario.orderID)/payment.duplicate/2"])
        #expect(try await store.order().paidCheckoutID == Scenario.checkoutID)
    }

    @Test(
        "a payment's own event before its session names it is kept, then taken in when the session finishes",
        arguments: StoreEngine.available)
    func unmatchedIntentIsAdopted(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine, ui: .redirect, providerID: Scenario.sessionID)
        let early = FintocEvents.event(
            id: "evt_early", type: "payment_intent.pending", data: FintocEvents.intent("pi_x", status: "pending", checkout: nil))
        guard case .recorded(.unmatched, nil, 0, false) = try await store.deliver(early) else {
            Issue.record("a payment no checkout names yet is unmatched")
            return
        }
        let finished = FintocEvents.session(
            Scenario.sessionID, status: "finished", checkout: Scenario.checkoutID,
            intent: FintocEvents.intent("pi_x", status: "requires_action", checkout: nil))
        try await store.deliver(FintocEvents.event(type: "checkout_session.finished", data: finished))
        #expect(try await store.eventTypes() == [.paymentActionRequired, .paymentPending])
        #expect(try await store.checkout().status == .pending)
        let adopted = try await store.database.inboxRow("evt_early")
        #expect(adopted?.checkoutID == Scenario.checkoutID)
        #expect(adopted?.outcome == .applied)
    }

    @Test(
        "a plan worked out before another event changed the checkout is worked out again in the transaction",
        arguments: StoreEngine.available)
    func stalePlanIsRedone(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine, ui: .paymentIntent, providerID: Scenario.widgetIntent)
        let succeeded = FintocEvents.event(
            type: "payment_intent.succeeded", data: FintocEvents.intent(Scenario.widgetIntent, status: "succeeded", checkout: nil))
        let failed = FintocEvents.event(
            type: "payment_intent.failed", data: FintocEvents.intent(Scenario.widgetIntent, status: "failed", checkout: nil))
        let event = try WebhookNormaliser.normalise(succeeded)
        let now = Date()
        // Worked out while the payment was still open: it would publish payment.succeeded.
        let stale = try #require(
            try await store.database.prepareIngest(IngestItem(event: event, body: succeeded, source: .webhook, receivedAt: now)))
        #expect(stale.outbox.map(\.type) == ["payment.succeeded"])
        try await store.deliver(failed)
        let outcome = try await store.deliver(succeeded, plan: stale, at: now)
        guard case .recorded(.contradiction, _, 0, true) = outcome else {
            Issue.record("the stale plan must not be written: \(outcome)")
            return
        }
        #expect(try await store.eventTypes() == [.paymentFailed])
    }

    @Test("an object for another amount or a test event for a live checkout changes nothing", arguments: StoreEngine.available)
    func foreignObjects(_ engine: StoreEngine) async throws {
        let store = try await StoreFixture(engine, ui: .paymentIntent, providerID: Scenario.widgetIntent)
        let wrongAmount = try await store.deliver(
            FintocEvents.event(
                type: "payment_intent.succeeded",
                data: FintocEvents.intent(Scenario.widgetIntent, status: "succeeded", checkout: nil, amount: 1)))
        guard case .recorded(.contradiction, _, 0, true) = wrongAmount else {
            Issue.record("another amount is a contradiction: \(wrongAmount)")
            return
        }
        let liveEvent = try await store.deliver(
            FintocEvents.event(
                type: "payment_intent.succeeded", data: FintocEvents.intent(Scenario.widgetIntent, status: "succeeded", checkout: nil),
                mode: "live"))
        guard case .recorded(.unmatched, _, 0, _) = liveEvent else {
            Issue.record("a live event for a test checkout is unmatched: \(liveEvent)")
            return
        }
        let refund = try await store.deliver(
            FintocEvents.event(type: "refund.succeeded", data: ["id": "re_1", "object": "refund", "status": "succeeded"]))
        guard case .recorded(.ignored, nil, 0, false) = refund else {
            Issue.record("refunds are stored and ignored: \(refund)")
            return
        }
        #expect(try await store.eventIDs().isEmpty)
        #expect(try await store.checkout().status == .created)
    }
}

/// Fintoc's `next_action` as the gateway may receive it, and what `payment.action_required`
/// must carry for it.
struct NextActionCase: Sendable, CustomStringConvertible {
    let description: String
    /// The `next_action` member's JSON.
    let json: String
    let expected: NextAction?

    static let all: [NextActionCase] = [
        .init(
            description: "type and message, with a member the contract does not name",
            json:
                #"{"type": "approve_in_bank", "message": "A second representative\n must approve it.\u0007", "approvers": [{"rut": "11.111.111-1"}]}"#,
            expected: NextAction(
                type: "approve_in_bank", message: "A second representative must approve it.",
                other: ["approvers": .array([.object(["rut": .string("11.111.111-1")])])])),
        .init(description: "type only", json: #"{"type": "approve_in_bank"}"#, expected: NextAction(type: "approve_in_bank")),
        .init(description: "not an object", json: #""approve_in_bank""#, expected: nil),
        .init(description: "no type", json: #"{"message": "Approve it at the bank."}"#, expected: nil),
        .init(description: "a type that is no name", json: #"{"type": "approve <b>now</b>", "message": "x"}"#, expected: nil),
        .init(
            description: "a blank message", json: #"{"type": "approve_in_bank", "message": " \t\n "}"#,
            expected: NextAction(type: "approve_in_bank")),
        .init(
            description: "an oversized message, and a member with line breaks (passed through as data)",
            json:
                #"{"type": "approve_in_bank", "message": "\#(String(repeating: "a", count: NextAction.maxMessageLength + 1))", "hint": " \n "}"#,
            expected: NextAction(type: "approve_in_bank", other: ["hint": .string(" \n ")])),
        .init(
            description: "members too deep or too large",
            json:
                #"{"type": "approve_in_bank", "deep": [[[[[1]]]]], "blob": "\#(String(repeating: "b", count: NextAction.maxEncodedBytes))", "ok": 1.5}"#,
            expected: NextAction(type: "approve_in_bank", other: ["ok": .double(1.5)])),
    ]
}

@Suite("Fintoc's next_action through the store")
struct NextActionStoreTests {
    @Test(
        "a requires_action fact is applied whatever its next_action; the event carries what is usable and stays valid",
        arguments: StoreEngine.available, NextActionCase.all)
    func nextActionIsKeptWithinTheContract(_ engine: StoreEngine, _ example: NextActionCase) async throws {
        let store = try await StoreFixture(engine, ui: .paymentIntent, providerID: Scenario.widgetIntent)
        let nextAction = try JSONSerialization.jsonObject(with: Data(example.json.utf8), options: .fragmentsAllowed)
        let outcome = try await store.deliver(
            FintocEvents.event(
                type: "payment_intent.requires_action",
                data: FintocEvents.intent(Scenario.widgetIntent, status: "requires_action", checkout: nil, nextAction: nextAction)))
        guard case .recorded(.applied, _, 1, false) = outcome else {
            Issue.record("the fact is applied and published once: \(outcome)")
            return
        }
        let envelopes = try await store.envelopes()
        guard case .paymentActionRequired(let data)? = envelopes.first?.event else {
            Issue.record("expected payment.action_required, got \(envelopes.map(\.type))")
            return
        }
        #expect(data.payment.nextAction == example.expected)
        #expect(try await store.checkout().status == .actionRequired)
    }
}
