import Fintoc
import FintocSandbox
import Foundation
import HummingbirdTesting
import Testing

/// Every outcome of `/sandbox/complete` gives the events Fintoc sends, in order, with the full
/// object at that moment as `data`.
@Suite struct OutcomeTests {
    /// The types of the events about `ids`, oldest first.
    static func types(_ store: SandboxStore, _ ids: [String]) async -> [String] {
        await store.allEvents().filter { ids.contains($0.data["id"]?.stringValue ?? "") }.map(\.type.rawValue)
    }

    @Test func aPaidSessionEmitsSucceededThenFinishedWithThePaymentResource() async throws {
        try await withSandbox { client, store in
            let id = try await client.createSessionV2()["id"]!.string!
            let answer = try await client.complete(id, "succeeded")
            #expect(answer.status == .ok)
            let events = await store.allEvents()
            #expect(events.map(\.type) == [.paymentIntentSucceeded, .checkoutSessionFinished])
            let intent = try #require(try events[0].paymentIntent())
            #expect(intent.status == .succeeded)
            #expect(intent.amount == 350_000)
            #expect(intent.currency == .clp)
            #expect(intent.senderAccount?.number != nil)
            #expect(intent.transactionDate != nil)
            let session = try #require(try events[1].checkoutSession())
            #expect(session.status == .finished)
            #expect(session.paymentResource?.paymentIntent?.id == intent.id)
            #expect(session.paymentResource?.paymentIntent?.status == .succeeded)
            #expect(session.metadata?["order"] == "o-1")
            #expect(events.allSatisfy { $0.mode == .test && $0.id.hasPrefix("evt_") })
            let fetched = try await client.api(.get, "/v2/checkout_sessions/\(id)").json()
            #expect(fetched["payment_resource"]?["payment_intent"]?["status"]?.string == "succeeded")
        }
    }

    @Test func failedAndRejectedAttemptsLeaveTheSessionOpenForAnotherTry() async throws {
        try await withSandbox { client, store in
            let id = try await client.createSessionV2()["id"]!.string!
            #expect(try await client.complete(id, "failed").status == .ok)
            #expect(try await client.complete(id, "rejected").status == .ok)
            let events = await store.allEvents()
            #expect(events.map(\.type) == [.paymentIntentFailed, .paymentIntentRejected])
            let failed = try #require(try events[0].paymentIntent())
            let rejected = try #require(try events[1].paymentIntent())
            #expect(failed.errorReason == "insufficient_funds")
            #expect(rejected.errorReason == "mfa_invalid_authorization")
            #expect(failed.id != rejected.id, "each attempt is a new payment intent")
            let session = try await client.api(.get, "/v2/checkout_sessions/\(id)").json()
            #expect(session["status"]?.string == "in_progress")

            // The third attempt pays; the session then finishes with that intent.
            #expect(try await client.complete(id, "succeeded").status == .ok)
            let finished = try #require(try await store.allEvents().last?.checkoutSession())
            #expect(finished.paymentResource?.paymentIntent?.status == .succeeded)
        }
    }

    @Test func aCustomErrorReasonIsKept() async throws {
        try await withSandbox { client, store in
            let id = try await client.createIntent()["id"]!.string!
            #expect(try await client.complete(id, "failed", errorReason: "bank_not_available").status == .ok)
            let intent = try #require(try await store.allEvents().last?.paymentIntent())
            #expect(intent.errorReason == "bank_not_available")
        }
    }

    @Test func pendingFinishesTheSessionAndLaterSettles() async throws {
        try await withSandbox { client, store in
            let id = try await client.createSessionV2()["id"]!.string!
            #expect(try await client.complete(id, "pending").status == .ok)
            var events = await store.allEvents()
            #expect(events.map(\.type) == [.paymentIntentPending, .checkoutSessionFinished])
            let session = try #require(try events[1].checkoutSession())
            #expect(session.paymentResource?.paymentIntent?.status == .pending)
            let intentID = try #require(session.paymentResource?.paymentIntent?.id)

            // Completing the session again (or its intent) settles the pending payment.
            #expect(try await client.complete(id, "succeeded").status == .ok)
            events = await store.allEvents()
            #expect(events.map(\.type) == [.paymentIntentPending, .checkoutSessionFinished, .paymentIntentSucceeded])
            #expect(try events[2].paymentIntent()?.id == intentID)
            let fetched = try await client.api(.get, "/v2/checkout_sessions/\(id)").json()
            #expect(fetched["payment_resource"]?["payment_intent"]?["status"]?.string == "succeeded")
            let final = try await client.complete(intentID, "failed")
            #expect(final.status == .conflict)
            #expect(try final.error()?["code"]?.string == "payment_intent_final")
        }
    }

    @Test func requiresActionCarriesNextActionAndCanEndInFailure() async throws {
        try await withSandbox { client, store in
            let id = try await client.createSessionV2()["id"]!.string!
            #expect(try await client.complete(id, "requires_action").status == .ok)
            let events = await store.allEvents()
            #expect(events.map(\.type) == [.paymentIntentRequiresAction, .checkoutSessionFinished])
            let intent = try #require(try events[0].paymentIntent())
            #expect(intent.status == .requiresAction)
            #expect(intent.nextAction?["type"]?.stringValue == "approve_in_bank")
            #expect(try await client.complete(intent.id, "failed").status == .ok)
            #expect(await store.allEvents().last?.type == .paymentIntentFailed)
        }
    }

    @Test func expiringASessionEmitsExpiredEventsForItAndItsRunningAttempt() async throws {
        try await withSandbox { client, store in
            let quiet = try await client.createSessionV2()["id"]!.string!
            #expect(try await client.complete(quiet, "expired").status == .ok)
            #expect(await Self.types(store, [quiet]) == ["checkout_session.expired"])

            // A customer mid-flow (logged in: the attempt is running): the merchant can no longer
            // expire it through the API, as with Fintoc; time (here the control endpoint) does.
            let busy = try await client.createSessionV2()["id"]!.string!
            let login = try await client.form(
                "/checkout/\(busy)/login", [("bank", "cl_banco_estado"), ("username", "41614850-3"), ("password", "jonsnow")])
            #expect(login.status == .ok)
            let refused = try await client.api(.post, "/v2/checkout_sessions/\(busy)/expire")
            #expect(refused.status == .conflict)
            #expect(try refused.error()?["code"]?.string == "checkout_session_not_expirable")
            let expire = try await client.complete(busy, "expired")
            #expect(expire.status == .ok)
            #expect(try expire.json()["status"]?.string == "expired")
            let events = await store.allEvents().suffix(2)
            #expect(events.map(\.type) == [.paymentIntentExpired, .checkoutSessionExpired])
            #expect(try events.last?.checkoutSession()?.paymentResource?.paymentIntent?.status == .expired)
        }
    }

    @Test func directPaymentIntentsEmitOnlyPaymentIntentEvents() async throws {
        try await withSandbox { client, store in
            for outcome in ["succeeded", "failed", "rejected", "pending", "requires_action", "expired"] {
                let id = try await client.createIntent()["id"]!.string!
                let answer = try await client.complete(id, outcome)
                #expect(answer.status == .ok)
                #expect(try answer.json()["status"]?.string == outcome)
                #expect(await Self.types(store, [id]) == ["payment_intent.\(outcome)"])
            }
            #expect(await store.allEvents().allSatisfy { $0.type.objectKind == "payment_intent" })
            let expire = try await client.api(.post, "/v1/payment_intents/\(try await client.createIntent()["id"]!.string!)/expire")
            #expect(try expire.json()["status"]?.string == "expired")
        }
    }

    @Test func sessionsAndIntentsExpireByThemselves() async throws {
        try await withSandbox(testConfiguration(sessionLifetime: 0.3, tokenLifetime: 0.3)) { client, store in
            let session = try await client.createSessionV2()["id"]!.string!
            let intent = try await client.createIntent()["id"]!.string!
            let v1 = try await client.api(.post, "/v1/checkout_sessions", json: #"{"amount": 100, "currency": "CLP"}"#).json()["id"]!
                .string!
            try await eventually("the sweeper to expire them") {
                await Self.types(store, [session, intent, v1]).count == 3
            }
            #expect(Set(await Self.types(store, [session, intent, v1])) == ["checkout_session.expired", "payment_intent.expired"])
            #expect(try await client.api(.get, "/v2/checkout_sessions/\(session)").json()["status"]?.string == "expired")
            #expect(try await client.api(.get, "/v1/checkout_sessions/\(v1)").json()["status"]?.string == "expired")
            #expect(try await client.api(.get, "/v1/payment_intents/\(intent)").json()["status"]?.string == "expired")
        }
    }

    @Test func refundsProgressThenSucceed() async throws {
        try await withSandbox { client, store in
            let intent = try await client.createIntent(amount: 5000)["id"]!.string!
            let early = try await client.api(.post, "/v1/refunds", json: #"{"resource_id": "\#(intent)"}"#)
            #expect(try early.error()?["code"]?.string == "payment_intent_not_refundable")
            #expect(try await client.complete(intent, "succeeded").status == .ok)
            let tooMuch = try await client.api(.post, "/v1/refunds", json: #"{"resource_id": "\#(intent)", "amount": 6000}"#)
            #expect(try tooMuch.error()?["code"]?.string == "invalid_amount")
            let created = try await client.api(
                .post, "/v1/refunds", json: #"{"resource_id": "\#(intent)", "resource_type": "payment_intent", "amount": 2000}"#)
            #expect(created.status == .created)
            let refund = try created.json()
            let id = refund["id"]!.string!
            #expect(refund["status"]?.string == "in_progress")
            try await eventually("the refund to settle") {
                try await client.api(.get, "/v1/refunds/\(id)").json()["status"]?.string == "succeeded"
            }
            #expect(await Self.types(store, [id]) == ["refund.in_progress", "refund.succeeded"])
        }
    }
}
