import Foundation
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
    /// The order of the matched checkout: what the plan was worked out for, and what a store with
    /// several writers locks while it writes it.
    var order: (storefront: String, orderID: String)?
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

/// Works out what one event does to its checkout: the state machine's step, the payment attempts,
/// the checkout and order changes and the domain events to write. Pure: what it reads comes from
/// the store's side of the applier (`GatewayStore+Webhooks.swift`), which also writes the result
/// in the caller's transaction (docs/architecture.md rules 2 to 4).
enum WebhookApplier {
    /// Unmatched events for a payment that a later event tied to a checkout are taken in again,
    /// at most this many at a time.
    static let adoptLimit = 32

    /// The plan of `event` for `checkout` and its `order`, given the checkout's payment
    /// `attempts`. `readTraceparent` reads the trace context of an outbox event (by id), and is only
    /// called when the event emits domain events.
    static func decide(
        _ event: NormalisedEvent, source: InboxRecord.Source, now: Date, checkout: CheckoutRecord, order: OrderRecord,
        attempts: [(String, CheckoutStateMachine.Attempt)], readTraceparent: (_ eventID: String) throws -> String?
    ) throws -> IngestPlan {
        let basis = IngestPlan.Basis(
            checkoutVersion: checkout.version, orderUpdatedAt: order.updatedAt, paidCheckoutID: order.paidCheckoutID)
        if let mode = event.mode, mode != checkout.mode {
            var plan = IngestPlan(
                outcome: .unmatched, checkoutID: checkout.id, detail: "a \(mode)-mode event for a \(checkout.mode)-mode checkout",
                basis: basis)
            plan.order = (order.storefront, order.id)
            return plan
        }
        var machine = CheckoutStateMachine(
            checkoutID: checkout.id, ui: checkout.ui, status: checkout.status,
            attempts: Dictionary(attempts, uniquingKeysWith: { first, _ in first }),
            sessionFinished: checkout.sessionFinished, orderPaidBy: order.paidCheckoutID, needsReview: checkout.reviewSince != nil
        )
        let before = machine
        var step: CheckoutStateMachine.Step
        if let amount = event.amount, amount != order.amount || (event.currency.map { $0 != order.currency.rawValue } ?? false) {
            // Not the payment this checkout asked for: nothing is believed until Fintoc is re-read.
            machine.needsReview = true
            step = .init(
                outcome: .contradiction,
                detail: "the object is for \(amount) \(event.currency ?? ""), the order for \(order.amount) \(order.currency.rawValue)")
        } else {
            step = machine.apply(event.facts, authoritative: source == .reconciliation)
            if event.needsReread, source == .webhook { machine.needsReview = true }
        }

        var plan = IngestPlan(
            outcome: step.outcome, checkoutID: checkout.id, detail: step.detail, review: machine.needsReview, basis: basis)
        plan.order = (order.storefront, order.id)
        for (id, attempt) in machine.attempts.sorted(by: { $0.key < $1.key }) where before.attempts[id] != attempt {
            plan.attempts.append(
                PaymentIntentRecord(id: id, checkoutID: checkout.id, status: attempt.status, reason: attempt.reason, updatedAt: now))
        }
        var intentID = checkout.paymentIntentID
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
            || failure != checkout.failureReason || intentID != checkout.paymentIntentID || source == .reconciliation
            || !plan.attempts.isEmpty
        {
            plan.checkout = change
        }
        if let paidBy = machine.orderPaidBy, order.paidCheckoutID == nil {
            plan.orderPaid = (order.storefront, order.id, paidBy)
        }
        if !step.emissions.isEmpty {
            let traceparent = try readTraceparent(traceSource(checkout: checkout, order: order))
            var updated = checkout
            updated.status = change.status
            updated.paymentIntentID = intentID
            let mode = Mode(rawValue: checkout.mode) ?? .test
            for emission in step.emissions {
                let domainEvent = makeEvent(
                    emission, order: order.snapshot, checkout: updated.snapshot, mode: mode, occurredAt: event.occurredAt ?? now)
                plan.outbox.append(try OutboxRecord(envelope: EventEnvelope(event: domainEvent, time: now, traceparent: traceparent)))
            }
        }
        return plan
    }

    /// The id of the outbox event whose trace context the checkout's later events carry: its
    /// `checkout.created`.
    static func traceSource(checkout: CheckoutRecord, order: OrderRecord) -> String {
        EventID.make(
            storefront: StorefrontID(uncheckedRawValue: order.storefront), order: OrderID(uncheckedRawValue: order.id),
            type: .checkoutCreated, attempt: checkout.attempt)
    }

    static func makeEvent(_ emission: Emission, order: OrderSnapshot, checkout: CheckoutSnapshot, mode: Mode, occurredAt: Date)
        -> DomainEvent
    {
        let payment = emission.payment ?? PaymentSnapshot(id: checkout.providerID ?? "", status: .failed)
        switch emission.type {
        case .checkoutCreated:
            return .checkoutCreated(CheckoutCreated(order: order, checkout: checkout, mode: mode, occurredAt: occurredAt))
        case .checkoutExpired:
            return .checkoutExpired(CheckoutExpired(order: order, checkout: checkout, mode: mode, occurredAt: occurredAt))
        case .paymentSucceeded:
            return .paymentSucceeded(
                PaymentSucceeded(order: order, checkout: checkout, payment: payment, mode: mode, occurredAt: occurredAt))
        case .paymentFailed:
            return .paymentFailed(PaymentFailed(order: order, checkout: checkout, payment: payment, mode: mode, occurredAt: occurredAt))
        case .paymentPending:
            return .paymentPending(PaymentPending(order: order, checkout: checkout, payment: payment, mode: mode, occurredAt: occurredAt))
        case .paymentActionRequired:
            return .paymentActionRequired(
                PaymentActionRequired(order: order, checkout: checkout, payment: payment, mode: mode, occurredAt: occurredAt))
        case .paymentDuplicate:
            return .paymentDuplicate(
                PaymentDuplicate(order: order, checkout: checkout, payment: payment, mode: mode, occurredAt: occurredAt))
        }
    }
}
