import PaymentsCore

/// A payment attempt's status as the gateway tracks it: Fintoc's payment intent statuses that
/// say something (`created` and `in_progress` say nothing a storefront acts on).
enum PaymentStatus: String, Codable, Sendable, CaseIterable {
    case requiresAction = "requires_action"
    case pending, succeeded, failed, rejected, expired

    var isFinal: Bool { [.succeeded, .failed, .rejected, .expired].contains(self) }

    /// Order of the statuses on Fintoc's paths: `requires_action` → `pending` → a final one.
    var rank: Int {
        switch self {
        case .requiresAction: 1
        case .pending: 2
        case .succeeded, .failed, .rejected, .expired: 3
        }
    }

    /// Whether a payment in `self` may earlier have been in `earlier` on a path Fintoc takes: an
    /// expired payment was never pending, a pending one may have needed action first.
    func mayFollow(_ earlier: PaymentStatus) -> Bool {
        switch self {
        case .expired: false
        case .requiresAction: false
        case .pending: earlier == .requiresAction
        case .succeeded, .failed, .rejected: earlier == .requiresAction || earlier == .pending
        }
    }
}

/// What one Fintoc event says about a checkout, once normalised.
enum PaymentFact: Sendable, Hashable {
    /// A payment attempt reached `status` (`payment_intent.*`, or the payment a
    /// `checkout_session.finished` carries); `nextAction` is what the customer must do, for
    /// `requires_action`.
    case payment(id: String, status: PaymentStatus, reason: String?, nextAction: NextAction? = nil)
    /// The session ended with a payment in hand (`checkout_session.finished`).
    case sessionFinished
    /// The checkout ended unpaid (`checkout_session.expired`).
    case sessionExpired
}

/// One domain event a fact calls for.
struct Emission: Sendable, Hashable {
    var type: EventType
    var payment: PaymentSnapshot?
}

/// The state machine of one checkout (docs/architecture.md rule 3), kept apart from storage so it can be
/// driven through every order of events in tests.
///
/// - Each payment attempt has its own state, and a final one never changes, except when Fintoc
///   itself, re-read by reconciliation, says otherwise (`authoritative`).
/// - Each true fact is published once, even when it arrives after a later one: `payment.pending`
///   delivered after `payment.succeeded` is history, not a regression, and its event is written
///   (consumers apply an event only if it moves the order forward). This is what makes the set of
///   published events the same whatever order Fintoc delivers in.
/// - A fact that cannot be true together with what is known (a payment both failed and
///   succeeded; money for an expired checkout) is a contradiction: nothing is published, the
///   checkout is marked for review, and reconciliation settles it from Fintoc's own answer.
/// - A success for an order another checkout already paid is `payment.duplicate`.
struct CheckoutStateMachine: Sendable, Hashable {
    struct Attempt: Sendable, Hashable {
        var status: PaymentStatus
        var reason: String?
    }

    let checkoutID: String
    let ui: CheckoutUI
    var status: CheckoutRecord.Status
    var attempts: [String: Attempt]
    /// The session was finished by a payment (it takes no new attempt).
    var sessionFinished: Bool
    /// The checkout that paid the order, if any (this one or another attempt).
    var orderPaidBy: String?
    var needsReview: Bool

    struct Step: Sendable, Hashable {
        var outcome: InboxRecord.Outcome
        var emissions: [Emission] = []
        var detail: String?
    }

    /// Applies the facts of one event in order; the step reports the most telling outcome.
    mutating func apply(_ facts: [PaymentFact], authoritative: Bool) -> Step {
        var combined = Step(outcome: .unchanged)
        for fact in facts {
            let step = apply(fact, authoritative: authoritative)
            combined.emissions += step.emissions
            if step.outcome.weight > combined.outcome.weight {
                combined.outcome = step.outcome
                combined.detail = step.detail
            }
        }
        // Fintoc's own answer, taken in without a contradiction, settles any open question.
        if authoritative, combined.outcome != .contradiction { needsReview = false }
        return combined
    }

    mutating func apply(_ fact: PaymentFact, authoritative: Bool) -> Step {
        switch fact {
        case .payment(let id, let status, let reason, let nextAction):
            return applyPayment(id: id, status: status, reason: reason, nextAction: nextAction, authoritative: authoritative)
        case .sessionFinished:
            if sessionFinished { return Step(outcome: .unchanged) }
            if status == .expired, !authoritative {
                return contradiction("the session finished after it expired")
            }
            sessionFinished = true
            recompute()
            return Step(outcome: .applied)
        case .sessionExpired:
            return applySessionExpired(authoritative: authoritative)
        }
    }

    private mutating func applyPayment(id: String, status new: PaymentStatus, reason: String?, nextAction: NextAction?, authoritative: Bool)
        -> Step
    {
        let prior = attempts[id]
        if let prior, prior.status == new { return Step(outcome: .unchanged) }
        if !authoritative {
            if let prior, prior.status.isFinal || new.rank < prior.status.rank {
                // Older than what is known: true history if the known status can follow it.
                guard prior.status.mayFollow(new) else {
                    return contradiction("payment \(id) is \(prior.status.rawValue), so it cannot be \(new.rawValue)")
                }
                if [.pending, .requiresAction].contains(new), ui != .paymentIntent { sessionFinished = true }
                recompute()
                return Step(outcome: .history, emissions: emissions(for: id, new, reason: reason, nextAction: nextAction))
            }
            if status == .expired, [.succeeded, .pending, .requiresAction].contains(new) {
                return contradiction("payment \(id) is \(new.rawValue) but the checkout expired")
            }
        }
        if status == .expired, [.failed, .rejected, .expired].contains(new) {
            // A failure before the expiry, delivered after it: history of an ended checkout.
            attempts[id] = Attempt(status: new, reason: reason)
            return Step(outcome: .history, emissions: emissions(for: id, new, reason: reason, nextAction: nextAction))
        }
        attempts[id] = Attempt(status: new, reason: reason)
        if [.pending, .requiresAction, .succeeded].contains(new), ui != .paymentIntent {
            // On Fintoc's hosted flow these statuses finish the session.
            sessionFinished = true
        }
        let emitted = emissions(for: id, new, reason: reason, nextAction: nextAction)
        if new == .succeeded, orderPaidBy == nil { orderPaidBy = checkoutID }
        recompute()
        return Step(outcome: .applied, emissions: emitted)
    }

    private mutating func applySessionExpired(authoritative: Bool) -> Step {
        if status == .expired { return Step(outcome: .unchanged) }
        let live = attempts.values.contains { [.succeeded, .pending, .requiresAction].contains($0.status) }
        if live || sessionFinished {
            if authoritative, !attempts.values.contains(where: { $0.status == .succeeded }) {
                // Fintoc says it expired: its word stands over what the webhooks suggested.
                for (id, attempt) in attempts where !attempt.status.isFinal { attempts[id]?.status = .expired }
                sessionFinished = false
            } else {
                return contradiction("the checkout expired but it holds a payment")
            }
        }
        status = .expired
        return Step(outcome: .applied, emissions: [Emission(type: .checkoutExpired, payment: nil)])
    }

    private mutating func contradiction(_ detail: String) -> Step {
        needsReview = true
        return Step(outcome: .contradiction, detail: detail)
    }

    /// The domain event of a payment reaching `status`.
    private func emissions(for id: String, _ status: PaymentStatus, reason: String?, nextAction: NextAction?) -> [Emission] {
        switch status {
        case .requiresAction:
            return [
                Emission(type: .paymentActionRequired, payment: PaymentSnapshot(id: id, status: .requiresAction, nextAction: nextAction))
            ]
        case .pending:
            return [Emission(type: .paymentPending, payment: PaymentSnapshot(id: id, status: .pending))]
        case .failed:
            return [Emission(type: .paymentFailed, payment: PaymentSnapshot(id: id, status: .failed, reason: reason))]
        case .rejected:
            return [Emission(type: .paymentFailed, payment: PaymentSnapshot(id: id, status: .rejected, reason: reason))]
        case .succeeded:
            let otherSuccess = attempts.contains { $0.key != id && $0.value.status == .succeeded }
            let paidElsewhere = orderPaidBy.map { $0 != checkoutID } ?? false
            let type: EventType = paidElsewhere || otherSuccess ? .paymentDuplicate : .paymentSucceeded
            return [Emission(type: type, payment: PaymentSnapshot(id: id, status: .succeeded))]
        case .expired:
            // A widget payment intent is the checkout; a session's attempt expires with the
            // session, whose own event says so.
            return ui == .paymentIntent ? [Emission(type: .checkoutExpired, payment: nil)] : []
        }
    }

    /// The checkout's status from its attempts: success wins, expiry is final, a live payment
    /// shows, and a session whose finishing payment failed has failed.
    private mutating func recompute() {
        let statuses = Set(attempts.values.map(\.status))
        if statuses.contains(.succeeded) {
            status = .succeeded
        } else if status == .expired {
            return
        } else if ui == .paymentIntent {
            status = attempts.values.first.map { Self.checkoutStatus($0.status) } ?? status
        } else if statuses.contains(.pending) {
            status = .pending
        } else if statuses.contains(.requiresAction) {
            status = .actionRequired
        } else if sessionFinished, statuses.contains(.failed) {
            status = .failed
        } else if sessionFinished, statuses.contains(.rejected) {
            status = .rejected
        } else {
            status = .created
        }
    }

    static func checkoutStatus(_ payment: PaymentStatus) -> CheckoutRecord.Status {
        switch payment {
        case .requiresAction: .actionRequired
        case .pending: .pending
        case .succeeded: .succeeded
        case .failed: .failed
        case .rejected: .rejected
        case .expired: .expired
        }
    }
}

extension InboxRecord.Outcome {
    /// Which outcome a multi-fact event reports: the one that matters most to an operator.
    fileprivate var weight: Int {
        switch self {
        case .ignored, .unmatched, .unchanged: 0
        case .history: 1
        case .applied: 2
        case .contradiction: 3
        }
    }
}
