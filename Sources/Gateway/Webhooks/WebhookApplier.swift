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

/// Applies one event inside the caller's transaction: the inbox row, the payment attempts, the
/// checkout and order states and the outbox rows are written together (DESIGN.md rules 2 to 4).
enum WebhookApplier {
    /// Unmatched events for a payment that a later event tied to a checkout are taken in again,
    /// at most this many at a time.
    static let adoptLimit = 32

    static func apply(_ item: IngestItem, in db: Database) throws -> IngestOutcome {
        let event = item.event
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM inbox WHERE id = ?", arguments: [event.id]) == true {
            return .duplicate
        }
        let result = try process(event, source: item.source, now: item.receivedAt, in: db)
        try InboxRecord(
            id: event.id, type: event.type, source: item.source, objectId: event.objectID, checkoutId: result.checkoutID,
            outcome: result.outcome, detail: result.detail, body: item.body, occurredAt: event.occurredAt, receivedAt: item.receivedAt
        ).insert(db)
        if let intentID = result.learnedIntent, let checkoutID = result.checkoutID {
            try adoptUnmatched(intentID: intentID, checkoutID: checkoutID, now: item.receivedAt, in: db)
        }
        return .recorded(result.outcome, checkoutID: result.checkoutID, events: result.events, review: result.review)
    }

    struct Processed {
        var outcome: InboxRecord.Outcome
        var checkoutID: String?
        var detail: String?
        var events = 0
        var review = false
        /// A payment intent this event tied to the checkout for the first time.
        var learnedIntent: String?
    }

    static func process(_ event: NormalisedEvent, source: InboxRecord.Source, now: Date, in db: Database) throws -> Processed {
        guard event.isActionable else { return Processed(outcome: .ignored, detail: "type not acted on") }
        guard var checkout = try findCheckout(for: event, in: db) else {
            return Processed(outcome: .unmatched, detail: "no checkout of this gateway has this object")
        }
        guard var order = try OrderRecord.fetchOne(db, key: checkout.orderId) else {
            return Processed(outcome: .unmatched, checkoutID: checkout.id, detail: "the checkout's order is missing")
        }
        if let mode = event.mode, mode != checkout.mode {
            return Processed(outcome: .unmatched, checkoutID: checkout.id, detail: "a \(mode)-mode event for a \(checkout.mode)-mode checkout")
        }
        let attempts = try PaymentIntentRecord.filter(Column("checkout_id") == checkout.id).fetchAll(db)
        var machine = CheckoutStateMachine(
            checkoutID: checkout.id, ui: checkout.ui, status: checkout.status,
            attempts: Dictionary(uniqueKeysWithValues: attempts.map { ($0.id, .init(status: $0.status, reason: $0.reason)) }),
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

        var processed = Processed(outcome: step.outcome, checkoutID: checkout.id, detail: step.detail, review: machine.needsReview)
        for (id, attempt) in machine.attempts where before.attempts[id] != attempt {
            try PaymentIntentRecord(id: id, checkoutId: checkout.id, status: attempt.status, reason: attempt.reason, updatedAt: now)
                .upsert(db)
        }
        var intentChanged = false
        if let intentID = event.intentID, checkout.paymentIntentId != intentID, checkout.ui != .paymentIntent,
            step.outcome != .contradiction
        {
            // The attempt behind the session: later events naming only it find the checkout.
            if attempts.contains(where: { $0.id == intentID }) == false { processed.learnedIntent = intentID }
            checkout.paymentIntentId = intentID
            intentChanged = true
        }
        let reviewSince = machine.needsReview ? (checkout.reviewSince ?? now) : nil
        let failure = machine.attempts.values.filter { [.failed, .rejected].contains($0.status) }.compactMap(\.reason).sorted().first
        let checkoutChanged = machine.status != checkout.status || machine.sessionFinished != checkout.sessionFinished
            || reviewSince != checkout.reviewSince || checkout.failureReason != failure || intentChanged
            || source == .reconciliation
        if checkoutChanged {
            checkout.status = machine.status
            checkout.sessionFinished = machine.sessionFinished
            checkout.reviewSince = reviewSince
            checkout.failureReason = failure
            if source == .reconciliation { checkout.reconciledAt = now }
            checkout.updatedAt = now
            try checkout.update(db)
        }
        if let paidBy = machine.orderPaidBy, order.paidCheckoutId == nil {
            order.paidCheckoutId = paidBy
            order.status = .paid
            order.updatedAt = now
            try order.update(db, columns: ["paid_checkout_id", "status", "updated_at"])
        }
        if !step.emissions.isEmpty {
            let traceparent = try String.fetchOne(
                db, sql: "SELECT traceparent FROM outbox WHERE event_id = ?",
                arguments: [EventID.make(order: OrderID(uncheckedRawValue: order.id), type: .checkoutCreated, attempt: checkout.attempt)]
            )
            let mode = Mode(rawValue: checkout.mode) ?? .test
            for emission in step.emissions {
                let domainEvent = makeEvent(emission, order: order.snapshot, checkout: checkout.snapshot, mode: mode, occurredAt: event.occurredAt ?? now)
                try OutboxRecord.enqueue(EventEnvelope(event: domainEvent, time: now, traceparent: traceparent), in: db)
                processed.events += db.changesCount
            }
        }
        return processed
    }

    /// The checkout an event is about: by the object's own id, by a payment attempt already tied
    /// to a checkout, or by our checkout id in the object's metadata.
    static func findCheckout(for event: NormalisedEvent, in db: Database) throws -> CheckoutRecord? {
        if let intentID = event.intentID {
            if let checkout = try CheckoutRecord.filter(Column("provider_id") == intentID).fetchOne(db) { return checkout }
            if let attempt = try PaymentIntentRecord.fetchOne(db, key: intentID) {
                return try CheckoutRecord.fetchOne(db, key: attempt.checkoutId)
            }
        }
        if let sessionID = event.sessionID,
            let checkout = try CheckoutRecord.filter(Column("provider_id") == sessionID).fetchOne(db)
        {
            return checkout
        }
        if let hint = event.checkoutHint, let checkout = try CheckoutRecord.fetchOne(db, key: hint) {
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
            let result = try process(event, source: row.source, now: now, in: db)
            row.outcome = result.outcome
            row.checkoutId = result.checkoutID
            row.detail = result.detail
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
