import Foundation
import PaymentsCore

/// What one message asks of the store, decided by `EventApplier` from the event alone: its id
/// (the inbox row that makes it exactly once), its order, and the one action the event calls
/// for. Each engine carries a plan out inside the batch's transaction, in a savepoint of its
/// own, with the decisions that need the database (is the order sold, is the stock there), in
/// this order:
///
/// 1. claim the message id; a message applied before changes nothing (`.duplicate`);
/// 2. the action;
/// 3. record the outcome on the message's row.
struct DeliveryPlan: Sendable {
    var messageID: String
    var type: String
    var order: OrderSnapshot
    var action: Action

    var key: OrderKey { OrderKey(order) }

    enum Action: Sendable {
        /// `checkout.created`: hold every line until `expiresAt`, or nothing.
        case hold(checkout: CheckoutID, expiresAt: Date)
        /// `payment.succeeded`: sell the order (or record it backordered), then queue what
        /// `followUp` gives for that decision (called with the batch's "now"): the worker's
        /// event and the customer's email.
        case sell(checkout: CheckoutID, paymentID: String, followUp: @Sendable (StockLedger.SaleOutcome, Date) throws -> FollowUp?)
        /// `payment.failed`, `checkout.expired`: give the checkout's holds back and close it;
        /// then queue `email`, unless the order was sold meanwhile.
        case release(checkout: CheckoutID, outcome: String, emailUnlessSold: NotificationComposer.Rendered?)
        /// `payment.pending`, `payment.action_required`: queue `email` unless the order is sold.
        case emailUnlessSold(NotificationComposer.Rendered?)
        /// `payment.duplicate`: recorded only.
        case record
    }

    /// What a sale announces: the worker's own event and the customer's email.
    struct FollowUp: Sendable {
        var event: OutgoingEvent
        var email: NotificationComposer.Rendered
    }

    /// One of the worker's own events, encoded, for the event outbox.
    struct OutgoingEvent: Sendable {
        var id: String
        var type: String
        var body: Data
    }
}

/// What carrying out one plan did: the label of `worker_messages_total{outcome}`, and whether it
/// queued an email or an event (which wakes their senders).
struct DeliveryResult: Sendable, Hashable {
    var outcome: ApplyOutcome
    var emailQueued = false
    var eventQueued = false
}

extension ApplyOutcome {
    init(_ hold: StockLedger.HoldOutcome) {
        self =
            switch hold {
            case .held: .held
            case .notHeld: .notHeld
            case .lapsed, .closed: .recorded
            }
    }

    init(_ sale: StockLedger.SaleOutcome) {
        self =
            switch sale {
            case .confirmed: .sold
            case .backordered: .backordered
            case .alreadySold: .recorded
            }
    }
}
