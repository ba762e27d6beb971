/// The person paying, as the storefront knows them; Fintoc gets the same data.
public struct Customer: Sendable, Hashable, Codable {
    public static let maxEmailLength = 254
    public static let maxNameLength = 200

    public var email: String
    public var name: String?
    public var taxID: TaxID?

    public init(email: String, name: String? = nil, taxID: TaxID? = nil) {
        self.email = email
        self.name = name
        self.taxID = taxID
    }

    enum CodingKeys: String, CodingKey {
        case email, name
        case taxID = "tax_id"
    }

    public func validate(at path: String) throws(ValidationError) {
        var issues = ValidationCollector()
        let emailPath = ValidationCollector.join(path, "email")
        if email.isEmpty {
            issues.add(emailPath, "required", "must not be empty")
        } else if email.utf8.count > Self.maxEmailLength {
            issues.add(emailPath, "too_long", "must be at most \(Self.maxEmailLength) characters")
        } else if !EmailAddress.isPlausible(email) {
            issues.add(emailPath, "invalid_format", "must be an email address like name@example.com")
        }
        if let name {
            let namePath = ValidationCollector.join(path, "name")
            if name.trimmingWhitespace.isEmpty {
                issues.add(namePath, "required", "must not be blank when given")
            } else if name.unicodeScalars.count > Self.maxNameLength {
                issues.add(namePath, "too_long", "must be at most \(Self.maxNameLength) characters")
            } else if name.contains(where: \.isControlCharacter) {
                issues.add(namePath, "invalid_format", "must not contain control characters")
            }
        }
        if let taxID {
            _ = issues.collect { () throws(ValidationError) in try taxID.validate(at: ValidationCollector.join(path, "tax_id")) }
        }
        try issues.check()
    }
}

/// A customer's tax identifier, in Fintoc's shape `{type, value}`.
public struct TaxID: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Chile's RUT, e.g. `11.111.111-1` (dots optional, check digit 0-9 or K).
        case clRUT = "cl_rut"
        /// Mexico's RFC, e.g. `XAXX010101000` (12 characters for companies, 13 for people).
        case mxRFC = "mx_rfc"
    }

    public var type: Kind
    public var value: String

    public init(type: Kind, value: String) {
        self.type = type
        self.value = value
    }

    public static let maxValueLength = 20

    public func validate(at path: String) throws(ValidationError) {
        let valuePath = ValidationCollector.join(path, "value")
        guard value.unicodeScalars.count <= Self.maxValueLength else {
            throw ValidationError(path: valuePath, code: "too_long", reason: "must be at most \(Self.maxValueLength) characters")
        }
        switch type {
        case .clRUT:
            guard let reason = ChileanRUT.problem(with: value) else { return }
            throw ValidationError(path: valuePath, code: "invalid_tax_id", reason: reason)
        case .mxRFC:
            guard !MexicanRFC.isWellFormed(value) else { return }
            throw ValidationError(
                path: valuePath,
                code: "invalid_tax_id",
                reason: "must be an RFC: 3 or 4 letters, a YYMMDD date and a 3-character homoclave"
            )
        }
    }
}

/// The checks a payment form can make of an address without sending mail to it: one `@`, a
/// local part and a dotted domain of plain labels, no spaces. Deliverability is SMTP's job.
public enum EmailAddress {
    public static func isPlausible(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let local = parts[0]
        let domain = parts[1]
        guard !local.isEmpty, local.utf8.count <= 64,
            !local.hasPrefix("."), !local.hasSuffix("."), !local.contains(".."),
            local.allSatisfy({ $0.isASCII ? ($0.isLetter || $0.isNumber || "!#$%&'*+/=?^_`{|}~.-".contains($0)) : $0.isLetter })
        else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }
}

/// Chile's RUT: a body of up to 8 digits and a modulo-11 check digit (`K` standing for 10).
///
/// Public so the storefront API, the Fintoc client's callers and the sandbox judge a RUT the same
/// way: the storefront asks for the written form (`11.111.111-1`, dash required), Fintoc takes it
/// with or without dots and hyphen and stores it bare (`111111111`).
public enum ChileanRUT {
    /// Why `value` is not a RUT written with a dash (dots optional), or nil when it is one.
    public static func problem(with value: String) -> String? {
        let compact = value.filter { $0 != "." }
        let pieces = compact.split(separator: "-", omittingEmptySubsequences: false)
        guard pieces.count == 2, let check = pieces[1].first, pieces[1].count == 1,
            (1...8).contains(pieces[0].count), pieces[0].allSatisfy(\.isASCIIDigit)
        else {
            return "must be a RUT like 11.111.111-1 (digits, a dash and a check digit)"
        }
        guard let expected = checkDigit(for: pieces[0]), String(check).uppercased() == String(expected) else {
            return "check digit does not match the RUT"
        }
        return nil
    }

    /// `value` as Fintoc stores a RUT: digits and an upper-case check digit, no dots, no hyphen
    /// (`11.111.111-1`, `11111111-1` and `111111111` all give `111111111`); nil unless `value`
    /// is a RUT with the right check digit. Two spellings of one RUT normalise to the same text,
    /// so this is the key to find a customer by.
    public static func normalized(_ value: String) -> String? {
        var compact = value.filter { $0 != "." }
        if let dash = compact.firstIndex(of: "-") {
            // A hyphen is allowed only right before the check digit.
            guard compact.index(after: dash) == compact.index(before: compact.endIndex) else { return nil }
            compact.remove(at: dash)
        }
        guard let last = compact.last else { return nil }
        let check: Character = last == "k" ? "K" : last
        let body = compact.dropLast()
        guard (1...8).contains(body.count), body.allSatisfy(\.isASCIIDigit), checkDigit(for: body) == check else { return nil }
        return String(body) + String(check)
    }

    /// `value` with dots and hyphens dropped and upper-cased, valid or not: how a search term is
    /// compared with stored RUTs, so a mistyped one finds nothing instead of being an error.
    public static func compacted(_ value: String) -> String {
        value.filter { $0 != "." && $0 != "-" && !$0.isWhitespace }.uppercased()
    }

    public static func checkDigit(for body: Substring) -> Character? {
        var sum = 0
        var weight = 2
        for character in body.reversed() {
            guard let digit = character.wholeNumberValue else { return nil }
            sum += digit * weight
            weight = weight == 7 ? 2 : weight + 1
        }
        switch 11 - sum % 11 {
        case 11: return "0"
        case 10: return "K"
        case let digit: return Character(String(digit))
        }
    }
}

/// Mexico's RFC: 3 letters (companies) or 4 (people), a YYMMDD date, a 3-character homoclave.
public enum MexicanRFC {
    public static func isWellFormed(_ value: String) -> Bool {
        let characters = Array(value.uppercased())
        guard characters.count == 12 || characters.count == 13 else { return false }
        let letters = characters.count - 9
        let prefix = characters[0..<letters]
        let date = characters[letters..<(letters + 6)]
        let homoclave = characters[(letters + 6)...]
        guard prefix.allSatisfy({ ($0.isASCII && $0.isLetter) || $0 == "Ñ" || $0 == "&" }),
            date.allSatisfy(\.isASCIIDigit),
            homoclave.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return false }
        let digits = date.compactMap(\.wholeNumberValue)
        let month = digits[2] * 10 + digits[3]
        let day = digits[4] * 10 + digits[5]
        return (1...12).contains(month) && (1...31).contains(day)
    }

    /// `value` upper-cased, as Fintoc stores an RFC, when it is well formed; nil otherwise.
    public static func normalized(_ value: String) -> String? {
        isWellFormed(value) ? value.uppercased() : nil
    }
}

/// Mexico's CLABE: 18 digits (bank, branch, account) whose last is a check digit over the first
/// 17, weighted 3, 7, 1 in turn. Checked before money is sent to it, since a typo in an account
/// number would otherwise surface only as a failed transfer.
public enum MexicanCLABE {
    public static let length = 18

    /// Why `value` is not a CLABE, or nil when it is one.
    public static func problem(with value: String) -> String? {
        let characters = Array(value)
        guard characters.count == length, characters.allSatisfy(\.isASCIIDigit) else {
            return "must be a CLABE of \(length) digits"
        }
        guard let expected = checkDigit(for: characters.prefix(length - 1)), characters[length - 1].wholeNumberValue == expected else {
            return "check digit does not match the CLABE"
        }
        return nil
    }

    /// The check digit of a CLABE's first 17 digits; nil when they are not 17 digits.
    public static func checkDigit(for digits: some Collection<Character>) -> Int? {
        guard digits.count == length - 1 else { return nil }
        let weights = [3, 7, 1]
        var sum = 0
        for (index, character) in digits.enumerated() {
            guard character.isASCIIDigit, let digit = character.wholeNumberValue else { return nil }
            sum += digit * weights[index % 3] % 10
        }
        return (10 - sum % 10) % 10
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
