import Fintoc
import Foundation
import PaymentsCore

/// State changes of payments, from `/sandbox/complete`, the hosted page, the API's `expire` and
/// the sweeper, each with the events Fintoc sends for it.
///
/// A session's payment follows Fintoc's hosted checkout: the first attempt creates a payment
/// intent; `succeeded`, `pending` and `requires_action` finish the session
/// (`payment_intent.<status>` then `checkout_session.finished` carrying the intent); `failed` and
/// `rejected` emit only `payment_intent.<status>` and leave the session open (`in_progress`) for
/// another attempt with a new intent, until it is paid or expires. A `pending` or
/// `requires_action` payment can later be completed, which emits only `payment_intent.<status>`.
extension SandboxStore {
    struct Completion: Sendable {
        var outcome: Outcome
        var errorReason: String?
        var sender: BankAccount?
        var settleAt: Date?
        /// `bank_transfer` or `card` when the customer paid on a page; nil keeps the intent's.
        var paymentType: String?
    }

    /// `/sandbox/complete`: applies an outcome to a `cs_`, `pi_` or `re_` id.
    func complete(id: String, outcome: Outcome, errorReason: String?) throws(SandboxError) -> JSONValue {
        let completion = Completion(
            outcome: outcome, errorReason: errorReason ?? outcome.defaultErrorReason, sender: Self.defaultSender, settleAt: nil)
        if id.hasPrefix("cs_") {
            try apply(completion, toSession: id)
            return try sessionJSON(id)
        }
        if id.hasPrefix("pi_") {
            guard let record = intents[id] else { throw .missingResource("payment_intent", id: id) }
            if let sessionID = record.sessionID, let session = sessions[sessionID], session.session.status != .finished,
                session.session.status != .expired, !record.intent.status.isFinal
            {
                try apply(completion, toSession: sessionID)
            } else {
                try apply(completion, toIntent: id)
            }
            return try intentJSON(id)
        }
        if id.hasPrefix("re_") {
            try completeRefund(id: id, outcome: outcome)
            guard let refund = refunds[id] else { throw .missingResource("refund", id: id) }
            return Rendering.refund(refund.refund)
        }
        throw .missingResource("object", id: id)
    }

    static let defaultSender = BankAccount(
        holderID: "416148503", number: "813990168", type: "checking_account", institutionID: "cl_banco_de_chile")

    func apply(_ completion: Completion, toSession id: String) throws(SandboxError) {
        guard var record = sessions[id] else { throw .missingResource("checkout_session", id: id) }
        switch record.session.status {
        case .expired:
            throw .invalidState("Checkout session \(id) is expired.", code: "checkout_session_expired")
        case .finished:
            guard let intentID = record.paymentIntentID, let intent = intents[intentID], !intent.intent.status.isFinal else {
                throw .invalidState("Checkout session \(id) is finished and its payment is final.", code: "checkout_session_finished")
            }
            try apply(completion, toIntent: intentID)
            return
        default:
            break
        }
        if completion.outcome == .expired {
            expireSessionNow(id)
            return
        }
        // The current attempt continues if it is still running; after a failure, a new one starts.
        var intentID = record.paymentIntentID
        if let current = intentID, let intent = intents[current]?.intent, intent.status.isFinal {
            intentID = nil
        }
        let attemptID = intentID ?? startAttempt(forSession: id)
        record = sessions[id]!
        var intentRecord = intents[attemptID]!
        update(&intentRecord, with: completion)
        intents[attemptID] = intentRecord

        record.session.status = completion.outcome.finishesSession ? .finished : .inProgress
        record.session.updatedAt = timestamp()
        sessions[id] = record
        var emitted: [(Event.EventType, JSONValue)] = [(completion.outcome.eventType, Rendering.intent(intentRecord.intent))]
        if completion.outcome.finishesSession {
            emitted.append((.checkoutSessionFinished, Rendering.session(record, intent: intentRecord.intent)))
        }
        logger.debug(
            "checkout session payment",
            metadata: ["checkout_session_id": "\(id)", "payment_intent_id": "\(attemptID)", "outcome": "\(completion.outcome.rawValue)"])
        emit(emitted)
    }

    /// Creates the payment intent of a customer's attempt to pay a session (`in_progress`).
    @discardableResult
    func startAttempt(forSession id: String) -> String {
        var record = sessions[id]!
        if let current = record.paymentIntentID, let intent = intents[current]?.intent, !intent.status.isFinal {
            return current
        }
        let intentID = SandboxID.paymentIntent()
        let intent = PaymentIntent(
            id: intentID, mode: .test, status: .inProgress, amount: record.session.amount, currency: record.session.currency,
            createdAt: timestamp(), expiresAt: record.session.expiresAt, customerEmail: record.session.customerEmail,
            metadata: record.session.metadata ?? [:]
        )
        intents[intentID] = IntentRecord(intent: intent, sessionID: id, tokenExpiresAt: nil, settleAt: nil, sequence: nextSequence())
        record.paymentIntentID = intentID
        record.session.status = .inProgress
        record.session.updatedAt = timestamp()
        sessions[id] = record
        return intentID
    }

    func apply(_ completion: Completion, toIntent id: String) throws(SandboxError) {
        guard var record = intents[id] else { throw .missingResource("payment_intent", id: id) }
        if record.intent.status.isFinal {
            throw .invalidState("Payment intent \(id) is already \(record.intent.status).", code: "payment_intent_final")
        }
        if record.intent.status == completion.outcome.intentStatus {
            throw .invalidState("Payment intent \(id) is already \(record.intent.status).", code: "payment_intent_unchanged")
        }
        update(&record, with: completion)
        intents[id] = record
        logger.debug("payment intent changed", metadata: ["payment_intent_id": "\(id)", "outcome": "\(completion.outcome.rawValue)"])
        emit([(completion.outcome.eventType, Rendering.intent(record.intent))])
    }

    private func update(_ record: inout IntentRecord, with completion: Completion) {
        let outcome = completion.outcome
        record.intent.status = outcome.intentStatus
        record.intent.errorReason = [.failed, .rejected].contains(outcome) ? completion.errorReason : nil
        record.intent.nextAction = outcome == .requiresAction ? .object(TestValues.requiresActionNextAction.mapValues { .string($0) }) : nil
        if outcome != .expired, record.intent.senderAccount == nil {
            record.intent.senderAccount = completion.sender
        }
        if let paymentType = completion.paymentType { record.intent.paymentType = paymentType }
        if outcome == .succeeded {
            record.intent.transactionDate = timestamp()
            record.intent.referenceID = SandboxID.random(8)
        }
        record.settleAt = outcome == .pending ? completion.settleAt : nil
    }

    // MARK: Expiry

    func expireSession(_ id: String) throws(SandboxError) -> JSONValue {
        guard let record = sessions[id] else { throw .missingResource("checkout_session", id: id) }
        // Fintoc expires a session through the API only while it is `created`: once the customer
        // started paying, only time (or the control endpoint) ends it.
        guard record.session.status == .created else {
            throw .invalidState(
                "Checkout session \(id) is \(record.session.status) and cannot be expired.", code: "checkout_session_not_expirable")
        }
        expireSessionNow(id)
        return try sessionJSON(id)
    }

    func expireIntent(_ id: String) throws(SandboxError) -> JSONValue {
        guard let record = intents[id] else { throw .missingResource("payment_intent", id: id) }
        guard [.created, .inProgress].contains(record.intent.status) else {
            throw .invalidState(
                "Payment intent \(id) is \(record.intent.status) and cannot be expired.", code: "payment_intent_not_expirable")
        }
        try apply(Completion(outcome: .expired, errorReason: nil, sender: nil, settleAt: nil), toIntent: id)
        return try intentJSON(id)
    }

    /// Expires an open session and its running attempt: `payment_intent.expired` (if an attempt
    /// was running) then `checkout_session.expired`.
    func expireSessionNow(_ id: String) {
        guard var record = sessions[id] else { return }
        var emitted: [(Event.EventType, JSONValue)] = []
        var intent: PaymentIntent?
        if let intentID = record.paymentIntentID, var intentRecord = intents[intentID] {
            if [.created, .inProgress].contains(intentRecord.intent.status) {
                intentRecord.intent.status = .expired
                intents[intentID] = intentRecord
                emitted.append((.paymentIntentExpired, Rendering.intent(intentRecord.intent)))
            }
            intent = intentRecord.intent
        }
        record.session.status = .expired
        record.session.updatedAt = timestamp()
        sessions[id] = record
        emitted.append((.checkoutSessionExpired, Rendering.session(record, intent: intent)))
        logger.debug("checkout session expired", metadata: ["checkout_session_id": "\(id)"])
        emit(emitted)
    }

    /// The sweeper's pass: expires what is past `expires_at`, settles pending test payments and
    /// refunds whose time has come.
    public func sweep() {
        let current = now()
        for (id, record) in sessions where [.created, .inProgress].contains(record.session.status) {
            if let expires = record.session.expiresAt, expires <= current { expireSessionNow(id) }
        }
        // Only intents that may change are sorted (oldest first), not every intent ever made.
        let due = intents.filter { _, record in
            [.created, .inProgress, .pending].contains(record.intent.status)
        }
        for (id, record) in due.sorted(by: { $0.value.sequence < $1.value.sequence }) {
            if record.sessionID == nil, [.created, .inProgress].contains(record.intent.status), let expires = record.intent.expiresAt,
                expires <= current
            {
                try? apply(Completion(outcome: .expired, errorReason: nil, sender: nil, settleAt: nil), toIntent: id)
            }
            if record.intent.status == .pending, let settle = record.settleAt, settle <= current {
                try? apply(Completion(outcome: .succeeded, errorReason: nil, sender: nil, settleAt: nil), toIntent: id)
            }
        }
        for (id, record) in refunds where record.refund.status == .inProgress {
            if let settle = record.settleAt, settle <= current { try? completeRefund(id: id, outcome: .succeeded) }
        }
        if current.timeIntervalSince(lastPrune) >= 60 {
            pruneExpired(now: current)
            lastPrune = current
        }
    }
}
