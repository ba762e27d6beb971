import Foundation
import GRDB

/// One Fintoc event as received (or synthesised by reconciliation), and what ingesting it did.
///
/// The primary key is the event id: inserting an id that is already there changes nothing, which
/// is how a redelivered webhook is recognised (docs/architecture.md rule 2).
struct InboxRecord: GatewayRecord {
    static let databaseTableName = "inbox"

    enum Source: String, Codable, Sendable {
        case webhook
        case reconciliation
    }

    enum Outcome: String, Codable, Sendable, CaseIterable {
        /// It changed the checkout's state (and usually wrote domain events).
        case applied
        /// A true fact older than what is known (e.g. `pending` after `succeeded`): its domain
        /// event is written once, the state does not move back.
        case history
        /// It says nothing new (e.g. `checkout_session.finished` after its payment's own event).
        case unchanged
        /// It contradicts a final state; the checkout is marked for re-reading from Fintoc.
        case contradiction
        /// Signed and well formed, but for no checkout this gateway made (yet).
        case unmatched
        /// A type the gateway does not act on (refunds, types Fintoc adds later).
        case ignored
    }

    var id: String
    var type: String
    var source: Source
    var objectID: String?
    var checkoutID: String?
    var outcome: Outcome
    var detail: String?
    var body: Data
    var occurredAt: Date?
    var receivedAt: Date

    enum Columns {
        static let objectID = Column("object_id")
        static let outcome = Column("outcome")
        static let receivedAt = Column("received_at")
    }
}

/// One payment attempt (Fintoc payment intent) of a checkout, with its own state: a checkout
/// session can hold a failed attempt and then a successful one.
struct PaymentIntentRecord: GatewayRecord, Identifiable {
    static let databaseTableName = "payment_intent"

    var id: String
    var checkoutID: String
    var status: PaymentStatus
    var reason: String?
    var updatedAt: Date
}
