import Foundation
import GRDB
import PaymentsCore

/// One Fintoc event to take in, from a webhook or from reconciliation.
struct IngestItem: Sendable {
    var event: NormalisedEvent
    /// The bytes as received (or as synthesised), kept in the inbox.
    var body: Data
    var source: InboxRecord.Source
    var receivedAt: Date
    /// Worked out beforehand from a read snapshot, off the writer; used if still current.
    var plan: IngestPlan? = nil
}

/// What taking in one event did.
enum IngestOutcome: Sendable, Hashable {
    /// The event id was already in the inbox: nothing changed.
    case duplicate
    case recorded(InboxRecord.Outcome, checkoutID: String?, events: Int, review: Bool)

    /// The label used in logs and metrics.
    var label: String {
        switch self {
        case .duplicate: "duplicate"
        case .recorded(let outcome, _, _, _): outcome.rawValue
        }
    }
}

/// Everything one event will write, worked out from what the store held at `version`.
///
/// Working it out (reading the checkout and order, running the state machine, encoding the
/// domain events) is most of a webhook's cost; it runs on the reader pool, concurrently, and the
/// single writer only checks the versions it was worked out from and writes. An event whose
/// checkout changed meanwhile is worked out again inside the transaction.
struct IngestPlan: Sendable {
    var outcome: InboxRecord.Outcome
    var checkoutID: String?
    var detail: String?
    var review = false
    /// The checkout and order versions the plan was made from (nil when no checkout matched).
    var basis: Basis?
    var attempts: [PaymentIntentRecord] = []
    var checkout: CheckoutChange?
    var orderPaid: (storefront: String, orderID: String, checkoutID: String)?
    var outbox: [OutboxRecord] = []
    /// A payment intent this event ties to the checkout for the first time.
    var learnedIntent: String?

    struct Basis: Sendable, Hashable {
        var checkoutVersion: Int64
        var orderUpdatedAt: Date
        var paidCheckoutID: String?
    }

    struct CheckoutChange: Sendable {
        var status: CheckoutRecord.Status
        var sessionFinished: Bool
        var reviewSince: Date?
        var failureReason: String?
        var paymentIntentID: String?
        var reconciledAt: Date?
    }
}

/// Applies one event inside the caller's transaction: the inbox row, the payment attempts, the
/// checkout and order states and the outbox rows are written together (DESIGN.md rules 2 to 4).
enum WebhookApplier {
    /// Unmatched events for a payment that a later event tied to a checkout are taken in again,
    /// at most this many at a time.
    static let adoptLimit = 32

    static func apply(_ item: IngestItem, in db: Database) throws -> IngestOutcome {
        let event = item.event
        if try isRecorded(event.id, in: db) { return .duplicate }
        let plan: IngestPlan
        if let prepared = item.plan, try isCurrent(prepared, in: db) {
            plan = prepared
        } else {
            plan = try self.plan(event, source: item.source, now: item.receivedAt, in: db)
        }
        let events = try write(plan, now: item.receivedAt, in: db)
        try db.cachedStatement(sql: """
            INSERT INTO inbox (id, type, source, object_id, checkout_id, outcome, detail, body, occurred_at, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                event.id, event.type, item.source.rawValue, event.objectID, plan.checkoutID, plan.outcome.rawValue, plan.detail,
                item.body, event.occurredAt, item.receivedAt,
            ])
        if let intentID = plan.learnedIntent, let checkoutID = plan.checkoutID {
            try adoptUnmatched(intentID: intentID, checkoutID: checkoutID, now: item.receivedAt, in: db)
        }
        return .recorded(plan.outcome, checkoutID: plan.checkoutID, events: events, review: plan.review)
    }

    /// Whether the inbox already holds the event `id` (a redelivery).
    static func isRecorded(_ id: String, in db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM inbox WHERE id = ?"), arguments: [id]) == true
    }

    /// Whether the store still holds what `plan` was worked out from.
    static func isCurrent(_ plan: IngestPlan, in db: Database) throws -> Bool {
        guard let checkoutID = plan.checkoutID, let basis = plan.basis else {
            // Nothing matched: a checkout or a payment may have been recorded since; only an
            // event of a type never acted on is safe to keep as it was.
            return plan.outcome == .ignored
        }
        let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT checkout.version, "order".updated_at, "order".paid_checkout_id
            FROM checkout JOIN "order" ON "order".storefront = checkout.storefront AND "order".id = checkout.order_id WHERE checkout.id = ?
            """), arguments: [checkoutID])
        guard let row else { return false }
        let current = IngestPlan.Basis(checkoutVersion: row[0], orderUpdatedAt: row[1], paidCheckoutID: row[2])
        return current == basis
    }

    /// Works out what `event` does, reading only. Runs on a reader (ahead of the write) or inside
    /// the write transaction.
    static func plan(_ event: NormalisedEvent, source: InboxRecord.Source, now: Date, in db: Database) throws -> IngestPlan {
        guard event.isActionable else { return IngestPlan(outcome: .ignored, detail: "type not acted on") }
        guard let checkout = try findCheckout(for: event, in: db) else {
            return IngestPlan(outcome: .unmatched, detail: "no checkout of this gateway has this object")
        }
        guard let order = try OrderRecord.fetchOne(db.cachedStatement(sql: #"SELECT * FROM "order" WHERE storefront = ? AND id = ?"#), arguments: [checkout.storefront, checkout.orderId]) else {
            return IngestPlan(outcome: .unmatched, checkoutID: checkout.id, detail: "the checkout's order is missing")
        }
        let basis = IngestPlan.Basis(checkoutVersion: checkout.version, orderUpdatedAt: order.updatedAt, paidCheckoutID: order.paidCheckoutId)
        if let mode = event.mode, mode != checkout.mode {
            return IngestPlan(outcome: .unmatched, checkoutID: checkout.id, detail: "a \(mode)-mode event for a \(checkout.mode)-mode checkout", basis: basis)
        }
        let attempts = try Row.fetchAll(db.cachedStatement(sql: "SELECT id, status, reason FROM payment_intent WHERE checkout_id = ?"), arguments: [checkout.id])
            .compactMap { row -> (String, CheckoutStateMachine.Attempt)? in
                guard let status = PaymentStatus(rawValue: row[1]) else { return nil }
                return (row[0], .init(status: status, reason: row[2]))
            }
        var machine = CheckoutStateMachine(
            checkoutID: checkout.id, ui: checkout.ui, status: checkout.status,
            attempts: Dictionary(attempts, uniquingKeysWith: { first, _ in first }),
            sessionFinished: checkout.sessionFinished, orderPaidBy: order.paidCheckoutId, needsReview: checkout.reviewSince != nil
        )
        let before = machine
        var step: CheckoutStateMachine.Step
        if let amount = event.amount, amount != order.amount || (event.currency.map { $0 != order.currency.rawValue } ?? false) {
            // Not the payment this checkout asked for: nothing is believed until Fintoc is re-read.
            machine.needsReview = true
            step = .init(outcome: .contradiction, detail: "the object is for \(amount) \(event.currency ?? ""), the order for \(order.amount) \(order.currency.rawValue)")
        } else {
            step = machine.apply(event.facts, authoritative: source == .reconciliation)
            if event.needsReread, source == .webhook { machine.needsReview = true }
        }

        var plan = IngestPlan(outcome: step.outcome, checkoutID: checkout.id, detail: step.detail, review: machine.needsReview, basis: basis)
        for (id, attempt) in machine.attempts.sorted(by: { $0.key < $1.key }) where before.attempts[id] != attempt {
            plan.attempts.append(PaymentIntentRecord(id: id, checkoutId: checkout.id, status: attempt.status, reason: attempt.reason, updatedAt: now))
        }
        var intentID = checkout.paymentIntentId
        if let learned = event.intentID, learned != intentID, checkout.ui != .paymentIntent, step.outcome != .contradiction {
            // The attempt behind the session: later events naming only it find the checkout.
            if before.attempts[learned] == nil { plan.learnedIntent = learned }
            intentID = learned
        }
        let reviewSince = machine.needsReview ? (checkout.reviewSince ?? now) : nil
        let failure = machine.attempts.values.filter { [.failed, .rejected].contains($0.status) }.compactMap(\.reason).sorted().first
        let change = IngestPlan.CheckoutChange(
            status: machine.status, sessionFinished: machine.sessionFinished, reviewSince: reviewSince, failureReason: failure,
            paymentIntentID: intentID, reconciledAt: source == .reconciliation ? now : nil
        )
        if change.status != checkout.status || change.sessionFinished != checkout.sessionFinished || reviewSince != checkout.reviewSince
            || failure != checkout.failureReason || intentID != checkout.paymentIntentId || source == .reconciliation || !plan.attempts.isEmpty
        {
            plan.checkout = change
        }
        if let paidBy = machine.orderPaidBy, order.paidCheckoutId == nil {
            plan.orderPaid = (order.storefront, order.id, paidBy)
        }
        if !step.emissions.isEmpty {
            let traceparent = try String.fetchOne(
                db.cachedStatement(sql: "SELECT traceparent FROM outbox WHERE event_id = ?"),
                arguments: [EventID.make(storefront: StorefrontID(uncheckedRawValue: order.storefront), order: OrderID(uncheckedRawValue: order.id), type: .checkoutCreated, attempt: checkout.attempt)]
            )
            var updated = checkout
            updated.status = change.status
            updated.paymentIntentId = intentID
            let mode = Mode(rawValue: checkout.mode) ?? .test
            for emission in step.emissions {
                let domainEvent = makeEvent(emission, order: order.snapshot, checkout: updated.snapshot, mode: mode, occurredAt: event.occurredAt ?? now)
                plan.outbox.append(try OutboxRecord(envelope: EventEnvelope(event: domainEvent, time: now, traceparent: traceparent)))
            }
        }
        return plan
    }

    /// Writes what `plan` says; returns how many outbox rows were added.
    static func write(_ plan: IngestPlan, now: Date, in db: Database) throws -> Int {
        for attempt in plan.attempts {
            try db.cachedStatement(sql: """
                INSERT INTO payment_intent (id, checkout_id, status, reason, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at
                """).execute(arguments: [attempt.id, attempt.checkoutId, attempt.status.rawValue, attempt.reason, attempt.updatedAt])
        }
        if let change = plan.checkout, let checkoutID = plan.checkoutID {
            try db.cachedStatement(sql: """
                UPDATE checkout SET status = ?, session_finished = ?, review_since = ?, failure_reason = ?, payment_intent_id = ?,
                  reconciled_at = COALESCE(?, reconciled_at), updated_at = ?, version = version + 1
                WHERE id = ?
                """).execute(arguments: [
                    change.status.rawValue, change.sessionFinished, change.reviewSince, change.failureReason, change.paymentIntentID,
                    change.reconciledAt, now, checkoutID,
                ])
        }
        if let paid = plan.orderPaid {
            try db.cachedStatement(sql: """
                UPDATE "order" SET paid_checkout_id = ?, status = 'paid', updated_at = ?
                WHERE storefront = ? AND id = ? AND paid_checkout_id IS NULL
                """).execute(arguments: [paid.checkoutID, now, paid.storefront, paid.orderID])
        }
        var added = 0
        for row in plan.outbox where try row.enqueue(in: db) {
            added += 1
        }
        return added
    }

    /// The checkout an event is about: by the object's own id, by a payment attempt already tied
    /// to a checkout, or by our checkout id in the object's metadata.
    static func findCheckout(for event: NormalisedEvent, in db: Database) throws -> CheckoutRecord? {
        let byProvider = try db.cachedStatement(sql: "SELECT * FROM checkout WHERE provider_id = ?")
        let byID = try db.cachedStatement(sql: "SELECT * FROM checkout WHERE id = ?")
        if let intentID = event.intentID {
            if let checkout = try CheckoutRecord.fetchOne(byProvider, arguments: [intentID]) { return checkout }
            if let checkoutID = try String.fetchOne(db.cachedStatement(sql: "SELECT checkout_id FROM payment_intent WHERE id = ?"), arguments: [intentID]) {
                return try CheckoutRecord.fetchOne(byID, arguments: [checkoutID])
            }
        }
        if let sessionID = event.sessionID, let checkout = try CheckoutRecord.fetchOne(byProvider, arguments: [sessionID]) {
            return checkout
        }
        if let hint = event.checkoutHint, let checkout = try CheckoutRecord.fetchOne(byID, arguments: [hint]) {
            // Metadata is copied onto a session's attempts; a widget payment intent is its own
            // object, so a different intent naming it is not believed.
            if checkout.ui != .paymentIntent || checkout.providerId == event.intentID { return checkout }
        }
        return nil
    }

    /// Takes in again the stored unmatched events that name `intentID`, now that it is tied to
    /// `checkoutID` (a payment's own event delivered before the session's).
    static func adoptUnmatched(intentID: String, checkoutID: String, now: Date, in db: Database) throws {
        let waiting = try InboxRecord
            .filter(Column("object_id") == intentID && Column("outcome") == InboxRecord.Outcome.unmatched.rawValue)
            .order(Column("received_at"))
            .limit(adoptLimit)
            .fetchAll(db)
        for var row in waiting {
            guard let event = try? WebhookNormaliser.normalise(row.body) else { continue }
            let plan = try plan(event, source: row.source, now: now, in: db)
            _ = try write(plan, now: now, in: db)
            row.outcome = plan.outcome
            row.checkoutId = plan.checkoutID
            row.detail = plan.detail
            try row.update(db, columns: ["outcome", "checkout_id", "detail"])
        }
    }

    static func makeEvent(_ emission: Emission, order: OrderSnapshot, checkout: CheckoutSnapshot, mode: Mode, occurredAt: Date) -> DomainEvent {
        let payment = emission.payment ?? PaymentSnapshot(id: checkout.providerID ?? "", status: .failed)
        switch emission.type {
        case .checkoutCreated:
            return .checkoutCreated(CheckoutCreated(order: order, checkout: checkout, mode: mode, occurredAt: occurredAt))
        case .checkoutExpired:
            return .checkoutExpired(CheckoutExpired(order: order, checkout: checkout, mode: mode, occurredAt: occurredAt))
        case .paymentSucceeded:
            return .paymentSucceeded(PaymentSucceeded(order: order, checkout: checkout, payment: payment, mode: mode, occurredAt: occurredAt))
        case .paymentFailed:
            return .paymentFailed(PaymentFailed(order: order, checkout: checkout, payment: payment, mode: mode, occurredAt: occurredAt))
        case .paymentPending:
            return .paymentPending(PaymentPending(order: order, checkout: checkout, payment: payment, mode: mode, occurredAt: occurredAt))
        case .paymentActionRequired:
            return .paymentActionRequired(PaymentActionRequired(order: order, checkout: checkout, payment: payment, mode: mode, occurredAt: occurredAt))
        case .paymentDuplicate:
            return .paymentDuplicate(PaymentDuplicate(order: order, checkout: checkout, payment: payment, mode: mode, occurredAt: occurredAt))
        }
    }
}
