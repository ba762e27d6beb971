import PaymentsCore

/// Fintoc's `metadata`: string keys to free-form values (`PaymentsCore.JSONValue`, the one JSON
/// type the Fintoc module and the domain share).
public typealias Metadata = [String: JSONValue]
