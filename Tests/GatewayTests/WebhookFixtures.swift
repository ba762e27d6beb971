import CobroTestSupport
import Fintoc
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PaymentsCore
import PostgresSupport
import Testing

@testable import Gateway

/// Fintoc events written by hand, in the shapes the sandbox and Fintoc send.
enum FintocEvents {
    static let secret = GatewayConfiguration.sandboxWebhookSecret

    /// An event envelope around `data`.
    static func event(id: String = "evt_\(UUID().uuidString.prefix(12))", type: String, data: [String: Any], mode: String = "test") -> Data
    {
        let object: [String: Any] = [
            "id": id, "object": "event", "type": type, "mode": mode, "created_at": "2026-11-21T10:00:00.000Z", "data": data,
        ]
        return try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    static func intent(
        _ id: String, status: String, checkout: String?, amount: Int = 350_000, currency: String = "CLP", reason: String? = nil,
        nextAction: Any? = nil
    ) -> [String: Any] {
        var object: [String: Any] = [
            "id": id, "object": "payment_intent", "status": status, "amount": amount, "currency": currency, "mode": "test",
        ]
        if let checkout { object["metadata"] = [FintocMapping.checkoutKey: checkout] }
        if let reason { object["error_reason"] = reason }
        if let nextAction { object["next_action"] = nextAction }
        return object
    }

    static func session(_ id: String, status: String, checkout: String, intent: [String: Any]? = nil, amount: Int = 350_000) -> [String:
        Any]
    {
        var object: [String: Any] = [
            "id": id, "object": "checkout_session", "status": status, "amount": amount, "currency": "CLP", "mode": "test",
            "metadata": [FintocMapping.checkoutKey: checkout],
        ]
        if let intent { object["payment_resource"] = ["payment_intent": intent] }
        return object
    }

    /// `Fintoc-Signature` for `body` signed at `timestamp` with each of `secrets`.
    static func signatureHeader(_ body: Data, secrets: [String] = [secret], timestamp: Int64 = Int64(Date().timeIntervalSince1970))
        -> String
    {
        "t=\(timestamp),"
            + secrets.map { "v1=\(WebhookSigner(secret: $0).signature(for: body, timestamp: timestamp))" }.joined(separator: ",")
    }

    static func headers(_ body: Data, secrets: [String] = [secret], timestamp: Int64 = Int64(Date().timeIntervalSince1970)) -> HTTPFields {
        [.contentType: "application/json", .init("Fintoc-Signature")!: signatureHeader(body, secrets: secrets, timestamp: timestamp)]
    }
}

/// A realistic history of one checkout's Fintoc events, the state it must end in and the domain
/// events it must produce, whatever the order and however often each event is delivered.
struct Scenario: Sendable, CustomStringConvertible {
    let name: String
    let ui: CheckoutUI
    /// The event bodies, each with a fixed id (a redelivery repeats the same bytes).
    let events: [Data]
    let status: CheckoutRecord.Status
    let types: Set<EventType>

    var description: String { name }

    static let checkoutID = "chk_scenario"
    static let orderID = "ord-scenario"
    static let sessionID = "cs_scenario"
    static let widgetIntent = "pi_widget"

    var providerID: String { ui == .paymentIntent ? Self.widgetIntent : Self.sessionID }

    private static func build(
        _ name: String, ui: CheckoutUI, _ status: CheckoutRecord.Status, _ types: Set<EventType>, _ events: [(String, [String: Any])]
    ) -> Scenario {
        let bodies = events.enumerated().map { index, event in
            FintocEvents.event(id: "evt_\(name.replacingOccurrences(of: " ", with: "_"))_\(index)", type: event.0, data: event.1)
        }
        return Scenario(name: name, ui: ui, events: bodies, status: status, types: types)
    }

    private static func pi(_ id: String, _ status: String, reason: String? = nil) -> [String: Any] {
        FintocEvents.intent(id, status: status, checkout: checkoutID, reason: reason)
    }

    private static func cs(_ status: String, _ intent: [String: Any]? = nil) -> [String: Any] {
        FintocEvents.session(sessionID, status: status, checkout: checkoutID, intent: intent)
    }

    static let all: [Scenario] = [
        build(
            "paid", ui: .redirect, .succeeded, [.paymentSucceeded],
            [
                ("payment_intent.succeeded", pi("pi_1", "succeeded")),
                ("checkout_session.finished", cs("finished", pi("pi_1", "succeeded"))),
            ]),
        build(
            "failed then paid", ui: .redirect, .succeeded, [.paymentFailed, .paymentSucceeded],
            [
                ("payment_intent.failed", pi("pi_1", "failed", reason: "insufficient_funds")),
                ("payment_intent.succeeded", pi("pi_2", "succeeded")),
                ("checkout_session.finished", cs("finished", pi("pi_2", "succeeded"))),
            ]),
        build(
            "pending then paid", ui: .redirect, .succeeded, [.paymentPending, .paymentSucceeded],
            [
                ("payment_intent.pending", pi("pi_1", "pending")),
                ("checkout_session.finished", cs("finished", pi("pi_1", "pending"))),
                ("payment_intent.succeeded", pi("pi_1", "succeeded")),
            ]),
        build(
            "action then pending then paid", ui: .widget, .succeeded, [.paymentActionRequired, .paymentPending, .paymentSucceeded],
            [
                ("payment_intent.requires_action", pi("pi_1", "requires_action")),
                ("checkout_session.finished", cs("finished", pi("pi_1", "requires_action"))),
                ("payment_intent.pending", pi("pi_1", "pending")),
                ("payment_intent.succeeded", pi("pi_1", "succeeded")),
            ]),
        build(
            "pending then failed", ui: .redirect, .failed, [.paymentPending, .paymentFailed],
            [
                ("payment_intent.pending", pi("pi_1", "pending")),
                ("checkout_session.finished", cs("finished", pi("pi_1", "pending"))),
                ("payment_intent.failed", pi("pi_1", "failed", reason: "unresolved_final_status")),
            ]),
        build(
            "two failures then expired", ui: .redirect, .expired, [.paymentFailed, .checkoutExpired],
            [
                ("payment_intent.failed", pi("pi_1", "failed", reason: "insufficient_funds")),
                ("payment_intent.rejected", pi("pi_2", "rejected", reason: "mfa_invalid_authorization")),
                ("payment_intent.expired", pi("pi_3", "expired")),
                ("checkout_session.expired", cs("expired", pi("pi_3", "expired"))),
            ]),
        build(
            "expired untouched", ui: .redirect, .expired, [.checkoutExpired],
            [
                ("checkout_session.expired", cs("expired"))
            ]),
        build(
            "widget intent paid", ui: .paymentIntent, .succeeded, [.paymentActionRequired, .paymentPending, .paymentSucceeded],
            [
                ("payment_intent.requires_action", pi(widgetIntent, "requires_action")),
                ("payment_intent.pending", pi(widgetIntent, "pending")),
                ("payment_intent.succeeded", pi(widgetIntent, "succeeded")),
            ]),
        build(
            "widget intent rejected after pending", ui: .paymentIntent, .rejected, [.paymentPending, .paymentFailed],
            [
                ("payment_intent.pending", pi(widgetIntent, "pending")),
                ("payment_intent.rejected", pi(widgetIntent, "rejected", reason: "mfa_invalid_authorization")),
            ]),
        build(
            "widget intent expired", ui: .paymentIntent, .expired, [.checkoutExpired],
            [
                ("payment_intent.expired", pi(widgetIntent, "expired"))
            ]),
    ]
}

/// A gateway store on a fresh SQLite file or PostgreSQL database, holding one order and one
/// checkout, for driving the webhook path without HTTP.
struct StoreFixture {
    let database: GatewayStore
    /// The store's place as `GATEWAY_DATABASE_URL` takes it (an SQLite path or a postgres:// URL).
    let setting: String

    init(
        _ engine: StoreEngine = .sqlite, ui: CheckoutUI, providerID: String, checkoutID: String = Scenario.checkoutID,
        orderID: String = Scenario.orderID
    ) async throws {
        setting = try await GatewayFixture.databaseSetting(engine)
        database = try await GatewayStore.openForTest(try DatabaseLocation(parsing: setting))
        try await addCheckout(ui: ui, providerID: providerID, checkoutID: checkoutID, orderID: orderID, attempt: 1)
    }

    func addCheckout(ui: CheckoutUI, providerID: String, checkoutID: String, orderID: String, attempt: Int) async throws {
        try await Rows(store: database).addCheckout(
            ui: ui, providerID: providerID, checkoutID: checkoutID, orderID: orderID, attempt: attempt)
    }

    /// Rows a test sets up in a store: an order of "shop" and its checkout, as a storefront
    /// request would have recorded them.
    struct Rows {
        let store: GatewayStore

        func addCheckout(ui: CheckoutUI, providerID: String, checkoutID: String, orderID: String, attempt: Int = 1) async throws {
            let now = Date()
            try await store.insert(
                order: OrderRecord(
                    id: orderID, storefront: "shop", amount: 350_000, currency: .clp, language: .spanish,
                    customer: Customer(email: "felipe@example.cl", name: "Felipe"),
                    lineItems: [LineItem(sku: "MUG-01", name: "Tazón", quantity: 1, unitAmount: 350_000)],
                    status: .open, createdAt: now, updatedAt: now
                ),
                checkout: CheckoutRecord(
                    id: checkoutID, storefront: "shop", orderID: orderID, attempt: attempt, ui: ui, status: .created, mode: "test",
                    providerID: providerID,
                    paymentIntentID: ui == .paymentIntent ? providerID : nil, redirectURL: nil, sessionToken: nil, widgetToken: nil,
                    successURL: "https://shop.example/ok", cancelURL: "https://shop.example/ko", metadata: [:], failureReason: nil,
                    expiresAt: now.addingTimeInterval(600), createdAt: now, updatedAt: now
                ))
        }
    }

    /// Applies one delivery in a transaction of its own, as a lone webhook request would, with
    /// `plan` as the plan worked out beforehand (none: worked out in the transaction).
    @discardableResult
    func deliver(_ body: Data, source: InboxRecord.Source = .webhook, plan: IngestPlan? = nil, at now: Date = Date()) async throws
        -> IngestOutcome
    {
        let event = try WebhookNormaliser.normalise(body)
        return try await database.ingest([IngestItem(event: event, body: body, source: source, receivedAt: now, plan: plan)])[0].get()
    }

    func checkout(_ id: String = Scenario.checkoutID) async throws -> CheckoutRecord {
        try #require(try await database.checkoutRow(id))
    }

    func order(_ id: String = Scenario.orderID) async throws -> OrderRecord {
        try #require(try await database.orderRow(id))
    }

    /// The outbox's event ids, in order.
    func eventIDs() async throws -> [String] {
        try await database.strings("SELECT event_id FROM outbox ORDER BY sequence").compactMap { $0 }
    }

    /// The outbox's events, in order, read back as a consumer reads them (validated).
    func envelopes() async throws -> [EventEnvelope] {
        try await database.blobs("SELECT body FROM outbox ORDER BY sequence").map { try EventEnvelope.decode($0) }
    }

    func eventTypes() async throws -> Set<EventType> {
        Set(try await eventIDs().compactMap { EventID.parse($0)?.type })
    }
}
