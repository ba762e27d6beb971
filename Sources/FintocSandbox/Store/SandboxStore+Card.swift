import Fintoc
import Foundation

/// The card flow of a session whose `payment_method_types` holds `card`: the form's own checks
/// first, as a card form makes them before anything reaches the issuer (so a typo changes
/// nothing), then the test card's outcome through the same machinery as a bank payment, with the
/// same webhooks (`payment_intent.*`, then `checkout_session.finished` when it ends the session).
extension SandboxStore {
    /// What the customer typed on the card form.
    struct CardEntry: Sendable {
        var number: String
        /// `MM/AA` (also `MM/AAAA`).
        var expiry: String
        var cvc: String
        var holder: String
    }

    /// Pays `target` with a test card; a refused form or a closed payment changes nothing.
    func payByCard(target: PayTarget, entry: CardEntry) -> Result<Completion, FormRefusal> {
        guard let view = view(of: target), view.closedReason == nil else {
            return .failure(.init(message: "Este pago ya no se puede hacer."))
        }
        guard view.methods.contains(.card) else { return .failure(.init(message: "Este pago no acepta tarjetas.")) }
        let card: TestValues.Card
        switch Self.check(entry, now: now()) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let found): card = found
        }
        let completion = completion(of: card.behavior, sender: nil, paymentType: PaymentMethod.card.rawValue)
        do {
            try applyForCustomer(completion, to: target)
        } catch {
            return .failure(.init(message: error.message))
        }
        return .success(completion)
    }

    /// The form's checks, in the order the fields appear, so the customer fixes one at a time.
    static func check(_ entry: CardEntry, now: Date) -> Result<TestValues.Card, FormRefusal> {
        func refuse(_ message: String) -> Result<TestValues.Card, FormRefusal> { .failure(.init(message: message)) }
        let digits = String(entry.number.filter { !$0.isWhitespace && $0 != "-" })
        guard TestValues.passesLuhn(digits) else { return refuse("El número de tarjeta no es válido.") }
        guard let card = TestValues.cards.first(where: { $0.number == digits }) else {
            return refuse("Esta no es una tarjeta de prueba. En modo de prueba usa 4242 4242 4242 4242 u otra tarjeta de prueba.")
        }
        guard let date = expiry(entry.expiry) else { return refuse("La fecha de vencimiento debe tener la forma MM/AA.") }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let today = calendar.dateComponents([.year, .month], from: now)
        let current = (today.year ?? 0, today.month ?? 0)
        guard (date.year, date.month) >= current else { return refuse("La tarjeta está vencida.") }
        guard date.year <= current.0 + 20 else { return refuse("La fecha de vencimiento no es válida.") }
        let cvc = entry.cvc.trimmingCharacters(in: .whitespaces)
        guard cvc.count == 3, cvc.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return refuse("El código de seguridad (CVC) debe tener 3 dígitos.")
        }
        guard !entry.holder.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return refuse("Escribe el nombre que aparece en la tarjeta.")
        }
        return .success(card)
    }

    /// Month and four-digit year of `MM/AA` or `MM/AAAA`; nil for anything else.
    static func expiry(_ text: String) -> (month: Int, year: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            parts[0].count <= 2, [2, 4].contains(parts[1].count),
            let month = Int(parts[0]), (1...12).contains(month), let year = Int(parts[1])
        else { return nil }
        return (month, parts[1].count == 2 ? 2000 + year : year)
    }
}
