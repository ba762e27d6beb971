/// Fintoc's error body: `{"error": {"type", "code", "message", "param", "doc_url"}}`.
public struct ErrorEnvelope: Sendable, Hashable, Codable {
    public struct Body: Sendable, Hashable, Codable {
        public var type: ErrorType
        public var code: String?
        public var message: String?
        public var param: String?
        public var docURL: String?

        public init(type: ErrorType, code: String?, message: String?, param: String? = nil, docURL: String? = nil) {
            self.type = type
            self.code = code
            self.message = message
            self.param = param
            self.docURL = docURL
        }

        enum CodingKeys: String, CodingKey {
            case type, code, message, param
            case docURL = "doc_url"
        }
    }

    public var error: Body

    public init(_ error: Body) {
        self.error = error
    }
}

/// Fintoc's error `type`s; branch on `type` and `code`, never on `message`.
public struct ErrorType: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let apiError: Self = "api_error"
    public static let authenticationError: Self = "authentication_error"
    public static let invalidRequestError: Self = "invalid_request_error"
    public static let linkError: Self = "link_error"
    public static let institutionError: Self = "institution_error"
    public static let amountError: Self = "amount_error"
    public static let newContactError: Self = "new_contact_error"
    public static let known: [Self] = [
        .apiError, .authenticationError, .invalidRequestError, .linkError, .institutionError, .amountError, .newContactError,
    ]
}
