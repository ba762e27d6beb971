import CobroTestSupport
import Foundation
import GRDB
import Logging
import PaymentsCore
import Testing

@testable import FintocSandbox
@testable import Gateway

@Suite("Reconciliation and the operator's event commands", .needsBroker, .tags(.broker))
struct ReconciliationTests {
    static let quiet: Logger = {
        var logger = Logger(label: "reconcile-test")
        logger.logLevel = .warning
        return logger
    }()

    @Test(
        "a payment whose webhook Fintoc never delivered is recovered by reconciliation, for each ui",
        arguments: StoreEngine.available, ["redirect", "widget", "payment_intent"])
    func neverDelivered(_ engine: StoreEngine, ui: String) async throws {
        try await Stack.run(engine: engine) { stack in
            // No webhook endpoint is subscribed: Fintoc never tells the gateway.
            let made = try await stack.checkout(ui: ui)
            _ = try await stack.sandbox.complete(id: made.providerID, outcome: .succeeded, errorReason: nil)
            #expect(try await stack.nextEvents(1).map(\.type) == [.checkoutCreated])

            let report = try await ReconcileNow.run(configuration: stack.configuration, everythingOpen: true, logger: Self.quiet)
            #expect(report.examined == 1)
            #expect(report.changed == 1)
            #expect(report.failed == 0)
            let events = try await stack.nextEvents(1)
            #expect(events.map(\.id) == ["shop/\(made.orderID)/payment.succeeded/1"])
            let again = try await ReconcileNow.run(configuration: stack.configuration, everythingOpen: true, logger: Self.quiet)
            #expect(again.examined == 0, "a paid checkout is not re-read")
            let sources = try await stack.configuration.openStore().strings("SELECT DISTINCT source FROM inbox")
            #expect(sources == ["reconciliation"])
        }
    }

    @Test(
        "a payment waiting for the customer, re-read from Fintoc, is published with Fintoc's next_action, for each ui",
        arguments: StoreEngine.available, ["redirect", "payment_intent"])
    func rereadCarriesNextAction(_ engine: StoreEngine, ui: String) async throws {
        try await Stack.run(engine: engine) { stack in
            let made = try await stack.checkout(ui: ui)
            _ = try await stack.sandbox.complete(id: made.providerID, outcome: .requiresAction, errorReason: nil)
            #expect(try await stack.nextEvents(1).map(\.type) == [.checkoutCreated])
            let report = try await ReconcileNow.run(configuration: stack.configuration, everythingOpen: true, logger: Self.quiet)
            #expect(report.changed == 1)
            let events = try await stack.nextEvents(1)
            guard case .paymentActionRequired(let data) = events.first?.event else {
                Issue.record("expected payment.action_required, got \(events.map(\.type))")
                return
            }
            let expected = TestValues.requiresActionNextAction
            #expect(data.payment.nextAction == NextAction(type: expected["type"]!, message: expected["message"]))
        }
    }

    @Test("a finished session that names no payment is re-read by the running service and settled", arguments: StoreEngine.available)
    func backgroundServiceSettlesReview(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine, adjust: { $0.reconcileInterval = 0.3 }) { stack in
            let made = try await stack.checkout(ui: "redirect")
            _ = try await stack.sandbox.complete(id: made.providerID, outcome: .succeeded, errorReason: nil)
            let bare = FintocEvents.event(
                type: "checkout_session.finished", data: FintocEvents.session(made.providerID, status: "finished", checkout: made.id))
            let response = try await stack.postWebhook(bare, headers: FintocEvents.headers(bare))
            #expect(response.status == .ok)
            let events = try await stack.nextEvents(2, timeout: .seconds(15))
            #expect(events.map(\.type) == [.checkoutCreated, .paymentSucceeded])
            let checkout = try await stack.configuration.openStore().checkoutRow(made.id)
            #expect(checkout?.status == .succeeded)
            #expect(checkout?.reviewSince == nil)
            // The one gateway holds every singleton's lease, and says so.
            for lease in ["reconciler", "outbox_relay"] {
                #expect(try await stack.metric(#"gateway_lease_held{name="\#(lease)"}"#) == 1, "\(lease)")
            }
        }
    }

    @Test(
        "a webhook contradicting a failed payment is not published; Fintoc's answer keeps it failed and ends the review",
        arguments: StoreEngine.available)
    func contradictionSettledByFintoc(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine, adjust: { $0.reconcileInterval = 0.3 }) { stack in
            await stack.subscribeSandbox()
            let made = try await stack.checkout(ui: "payment_intent")
            _ = try await stack.sandbox.complete(id: made.providerID, outcome: .failed, errorReason: "insufficient_funds")
            #expect(try await stack.nextEvents(2).map(\.type) == [.checkoutCreated, .paymentFailed])
            let forged = FintocEvents.event(
                type: "payment_intent.succeeded", data: FintocEvents.intent(made.providerID, status: "succeeded", checkout: made.id))
            let response = try await stack.postWebhook(forged, headers: FintocEvents.headers(forged))
            #expect(try response.json()["outcome"] as? String == "contradiction")
            let database = try await stack.configuration.openStore()
            var settled = false
            for _ in 0..<100 where !settled {
                try await Task.sleep(for: .milliseconds(100))
                settled = try await database.checkoutRow(made.id)?.reviewSince == nil
            }
            #expect(settled, "the review ends once Fintoc has been asked")
            #expect(try await stack.events.take(1, timeout: .seconds(1)).isEmpty, "no payment.succeeded")
            let checkout = try await database.checkoutRow(made.id)
            #expect(checkout?.status == .failed)
        }
    }

    @Test("payments-gateway reconcile --now, events list and events replay, as an operator runs them", arguments: StoreEngine.available)
    func operatorCommands(_ engine: StoreEngine) async throws {
        try await Stack.run(engine: engine) { stack in
            let made = try await stack.checkout(ui: "payment_intent")
            _ = try await stack.sandbox.complete(id: made.providerID, outcome: .succeeded, errorReason: nil)
            _ = try await stack.nextEvents(1)
            let environment = [
                "GATEWAY_DATABASE_URL": stack.databaseSetting, "FINTOC_API_URL": stack.configuration.fintoc.baseURL,
                "AMQP_URL": stack.configuration.amqpURL,
            ]
            let notAll = try await ExecutableRunner.run("payments-gateway", ["reconcile", "--now", "--json"], environment: environment)
            #expect(notAll.status == 0, "\(notAll.output)")
            #expect(notAll.output.contains(#""examined":0"#), "an open checkout inside its life is not due")
            let reconcile = try await ExecutableRunner.run("payments-gateway", ["reconcile", "--now", "--all"], environment: environment)
            #expect(reconcile.status == 0, "\(reconcile.output)")
            #expect(reconcile.output.contains("changed:   1"), "\(reconcile.output)")
            let published = try await stack.nextEvents(1)
            #expect(published.map(\.type) == [.paymentSucceeded])

            let list = try await ExecutableRunner.run(
                "payments-gateway", ["events", "list", "--order", made.orderID], environment: environment)
            #expect(list.status == 0)
            #expect(list.output.contains("checkout.created") && list.output.contains("payment.succeeded"))
            #expect(list.output.contains("reconciliation"))
            let missing = try await ExecutableRunner.run(
                "payments-gateway", ["events", "list", "--order", "ord-nope"], environment: environment)
            #expect(missing.status == 1)

            let replay = try await ExecutableRunner.run(
                "payments-gateway", ["events", "replay", "--order", made.orderID], environment: environment)
            #expect(replay.status == 0, "\(replay.output)")
            #expect(replay.output.contains("published: 2"))
            let replayed = try await stack.nextEvents(2)
            #expect(
                replayed.map(\.id) == ["shop/\(made.orderID)/checkout.created/1", "shop/\(made.orderID)/payment.succeeded/1"],
                "the original ids, in order")
            let badSince = try await ExecutableRunner.run(
                "payments-gateway", ["events", "replay", "--since", "yesterday"], environment: environment)
            #expect(badSince.status != 0)
            #expect(badSince.output.contains("RFC 3339"))
        }
    }
}
