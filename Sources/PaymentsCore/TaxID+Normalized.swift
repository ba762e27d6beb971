extension TaxID {
    /// The one spelling of this tax id, so two spellings of one person match: a RUT without dots
    /// or hyphen and with an upper-case `K` (`11.111.111-1` and `111111111` are the same), an RFC
    /// in upper case. Nil when the value is not a valid id of its type.
    public var normalizedValue: String? {
        switch type {
        case .clRUT: ChileanRUT.normalized(value)
        case .mxRFC: MexicanRFC.normalized(value)
        }
    }
}
