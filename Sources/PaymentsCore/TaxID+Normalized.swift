extension TaxID {
    /// The one spelling of this tax id, so two spellings of the same person match: a RUT without
    /// dots or hyphen and with an upper-case `K` (`11.111.111-1` and `111111111` are the same,
    /// and the form Fintoc's account examples use); an RFC in upper case. Nil when the value is
    /// not a valid id of its type.
    public var normalizedValue: String? {
        switch type {
        case .clRUT:
            let compact = value.filter { $0 != "." && $0 != "-" && !$0.isWhitespace }.uppercased()
            guard (2...9).contains(compact.count), let check = compact.last else { return nil }
            let body = compact.dropLast()
            guard body.allSatisfy(\.isASCIIDigit), ChileanRUT.checkDigit(for: body) == check else { return nil }
            return compact
        case .mxRFC:
            let upper = value.uppercased()
            return MexicanRFC.isWellFormed(upper) ? upper : nil
        }
    }
}
