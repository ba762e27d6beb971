import Foundation
import PaymentsCore

/// The kinds of customer email; at most one of each per order (a unique key in the table).
public enum NotificationKind: String, Sendable, Hashable, CaseIterable, Codable {
    case orderConfirmed = "order_confirmed"
    case orderBackordered = "order_backordered"
    case paymentFailed = "payment_failed"
    /// Payment pending at the bank, or the customer must act: "we are waiting".
    case paymentAwaiting = "payment_awaiting"
}

/// Renders the customer's emails, once per email, so every resend carries the same bytes and
/// the same `Message-ID` (the store's `DeliveryWrites.queueEmail` writes the row).
struct NotificationComposer: Sendable {
    let from: MailAddress

    /// The stable Message-ID of an order's email of `kind`: `<storefront+order.kind@domain>`
    /// (`+` is in neither name's alphabet); `<order.kind@domain>` for an order of a version 1
    /// event, which names no storefront.
    func messageID(order: OrderKey, kind: NotificationKind) -> String {
        let local = "\(order.id).\(kind.rawValue)"
        return "<\(order.storefront.isEmpty ? local : "\(order.storefront)+\(local)")@\(from.domain)>"
    }

    /// One email ready for the outbox: rendered once, so every resend carries the same bytes.
    struct Rendered: Sendable {
        var kind: NotificationKind
        var order: OrderKey
        var recipient: String
        var messageID: String
        var subject: String
        var message: Data
    }

    /// Renders the email of `kind` for `order` (no database work, so it can run ahead of the
    /// transaction that decides whether it is needed).
    func render(kind: NotificationKind, order: OrderSnapshot, values: [String: Any], now: Date) -> Rendered {
        let language = order.language.rawValue
        var context = values
        context["order_id"] = order.id.rawValue
        context["total"] = order.total.description
        // Sections test booleans, never strings (a string would be iterated).
        if let name = order.customer.name {
            context["name"] = name
            context["has_name"] = true
        }
        let subject = EmailTemplates.library.render(context, withTemplate: "\(language).\(kind.rawValue).subject") ?? order.id.rawValue
        let body = EmailTemplates.library.render(context, withTemplate: "\(language).\(kind.rawValue).body") ?? ""
        let key = OrderKey(order)
        let messageID = messageID(order: key, kind: kind)
        let message = MailMessage(
            from: from, to: MailAddress(address: order.customer.email, displayName: order.customer.name),
            subject: subject, body: body, messageID: messageID, date: now, language: language
        ).rendered()
        return Rendered(kind: kind, order: key, recipient: order.customer.email, messageID: messageID, subject: subject, message: message)
    }

    /// Template values describing the order's lines and payment.
    static func orderValues(_ order: OrderSnapshot, paymentReference: String) -> [String: Any] {
        let lines: [[String: Any]] = order.lineItems.map { line in
            [
                "name": line.name,
                "quantity": "\(line.quantity)",
                "unit_price": Money(minorUnits: line.unitAmount, currency: order.currency).formatted,
                "line_total": ((try? line.total(in: order.currency))?.formatted) ?? "",
            ]
        }
        return ["lines": lines, "payment_reference": paymentReference]
    }
}
