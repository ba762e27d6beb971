/// Why a call to Fintoc did not produce the object asked for.
public enum FintocClientError: Error, Sendable, CustomStringConvertible {
    /// Fintoc answered with its error envelope (after any retries).
    case api(FintocAPIError)
    /// The request never got an HTTP answer: connection refused or reset, TLS, DNS… (after any
    /// retries). The text is the transport's own description.
    case transport(String)
    /// No complete answer within the configured timeout (after any retries).
    case timeout
    /// An answer that is not what the API documents: not JSON, or JSON of the wrong shape.
    case invalidResponse(status: Int, requestID: String?, reason: String)
    /// The call was refused before sending: a missing idempotency key, a body that can't encode.
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .api(let error): error.description
        case .transport(let reason): "could not reach Fintoc: \(reason)"
        case .timeout: "Fintoc did not answer in time"
        case .invalidResponse(let status, let requestID, let reason):
            "unexpected answer from Fintoc (HTTP \(status), request \(requestID ?? "-")): \(reason)"
        case .invalidRequest(let reason): "request not sent: \(reason)"
        }
    }

    /// Whether trying again later (with the same idempotency key) may succeed.
    public var isTransient: Bool {
        switch self {
        case .api(let error):
            // 409 for a key whose first request Fintoc is still working on: an earlier attempt
            // that timed out here is still running there, and the next retry gets its answer.
            RetryPolicy.isRetryable(status: error.status) || (error.status == 409 && error.code == "idempotency_key_in_use")
        case .transport, .timeout: true
        case .invalidResponse(let status, _, _): RetryPolicy.isRetryable(status: status)
        case .invalidRequest: false
        }
    }
}

/// An error answer from Fintoc: the HTTP status, the envelope's fields and the request id to
/// quote to Fintoc's support. Branch on `type` and `code`, never on `message`.
public struct FintocAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    public let status: Int
    public let type: ErrorType
    public let code: String?
    public let message: String?
    public let param: String?
    public let docURL: String?
    public let requestID: String?

    public init(status: Int, envelope: ErrorEnvelope.Body, requestID: String?) {
        self.status = status
        self.type = envelope.type
        self.code = envelope.code
        self.message = envelope.message
        self.param = envelope.param
        self.docURL = envelope.docURL
        self.requestID = requestID
    }

    public var description: String {
        var text = "Fintoc answered HTTP \(status) \(type.rawValue)"
        if let code { text += " \(code)" }
        if let param { text += " (param \(param))" }
        if let message { text += ": \(message)" }
        if let requestID { text += " [request \(requestID)]" }
        return text
    }
}
