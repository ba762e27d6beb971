import Foundation
import PaymentsCore

/// Sample values shared by the tests: a Chilean order paid through the hosted page and a Mexican
/// one paid with a payment intent, and one event of every type built from them.
enum Fixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let chileanOrder = OrderSnapshot(
        id: try! OrderID("ord-1001"),
        storefront: try! StorefrontID("tienda-cl"),
        amount: 350_000,
        currency: .clp,
        lineItems: [
            LineItem(sku: "TSHIRT-M", name: "Polera algodón talla M", quantity: 2, unitAmount: 100_000),
            LineItem(sku: "MUG-01", name: "Tazón Cobro", quantity: 1, unitAmount: 150_000),
        ],
        customer: Customer(email: "felipe@example.cl", name: "Felipe Castro", taxID: TaxID(type: .clRUT, value: "11.111.111-1")),
        language: .spanish
    )

    static let mexicanOrder = OrderSnapshot(
        id: try! OrderID("ord_2002.mx"),
        storefront: try! StorefrontID("tienda.mx"),
        amount: 350_050,
        currency: .mxn,
        lineItems: [LineItem(sku: "HOODIE-L", name: "Hoodie size L", quantity: 1, unitAmount: 350_050)],
        customer: Customer(email: "ana@example.mx"),
        language: .english
    )

    static let created = Date(timeIntervalSince1970: 1_795_000_000.125)

    static func checkout(attempt: Int = 1, ui: CheckoutUI = .redirect, providerID: String? = "cs_li5531onlFDi235") -> CheckoutSnapshot {
        CheckoutSnapshot(
            id: try! CheckoutID("chk_3kTqV9x2LmP8wQ1z"),
            attempt: attempt,
            ui: ui,
            providerID: providerID,
            expiresAt: created.addingTimeInterval(86_400)
        )
    }

    /// Fintoc's `next_action` as the sandbox renders it, plus a member the contract does not name
    /// (passed through as it came).
    static let nextAction = NextAction(
        type: "approve_in_bank",
        message: "A second representative of the company must approve this transfer in the bank's portal.",
        other: ["expires_at": .string("2026-11-22T15:32:46Z"), "approvals": .object(["required": .int(2), "given": .int(1)])]
    )

    /// One valid event of every type, over both currencies and all three checkout styles.
    static var everyEvent: [DomainEvent] {
        let redirect = checkout()
        let intent = checkout(attempt: 2, ui: .paymentIntent, providerID: "pi_2Nf5q1W3eRtY7uI9")
        let widget = CheckoutSnapshot(id: try! CheckoutID("chk_widget1"), attempt: 3, ui: .widget, providerID: nil, expiresAt: nil)
        return [
            .checkoutCreated(CheckoutCreated(order: chileanOrder, checkout: redirect, mode: .test, occurredAt: created)),
            .checkoutCreated(CheckoutCreated(order: mexicanOrder, checkout: intent, mode: .live, occurredAt: created)),
            .paymentSucceeded(
                PaymentSucceeded(
                    order: chileanOrder, checkout: redirect,
                    payment: PaymentSnapshot(id: "pi_7Yq2Lw9Xe3Rt5Uo1", status: .succeeded), mode: .test, occurredAt: created)),
            .paymentFailed(
                PaymentFailed(
                    order: mexicanOrder, checkout: intent,
                    payment: PaymentSnapshot(id: "pi_2Nf5q1W3eRtY7uI9", status: .failed, reason: "insufficient_funds"), mode: .test,
                    occurredAt: created)),
            .paymentFailed(
                PaymentFailed(
                    order: chileanOrder, checkout: widget,
                    payment: PaymentSnapshot(id: "pi_x", status: .rejected, reason: "login_invalid_credentials"), mode: .test,
                    occurredAt: created)),
            .paymentPending(
                PaymentPending(
                    order: mexicanOrder, checkout: intent,
                    payment: PaymentSnapshot(id: "pi_2Nf5q1W3eRtY7uI9", status: .pending), mode: .test, occurredAt: created)),
            .paymentActionRequired(
                PaymentActionRequired(
                    order: chileanOrder, checkout: redirect,
                    payment: PaymentSnapshot(
                        id: "pi_7Yq2Lw9Xe3Rt5Uo1", status: .requiresAction, reason: "mfa_required", nextAction: nextAction),
                    mode: .test, occurredAt: created)),
            .paymentActionRequired(
                PaymentActionRequired(
                    order: mexicanOrder, checkout: intent,
                    payment: PaymentSnapshot(id: "pi_2Nf5q1W3eRtY7uI9", status: .requiresAction), mode: .live, occurredAt: created)),
            .checkoutExpired(CheckoutExpired(order: chileanOrder, checkout: widget, mode: .test, occurredAt: created)),
            .paymentDuplicate(
                PaymentDuplicate(
                    order: mexicanOrder, checkout: intent,
                    payment: PaymentSnapshot(id: "pi_9Dq4Kx2Vb7Nm1Lz3", status: .succeeded), mode: .test, occurredAt: created)),
        ]
    }
}
