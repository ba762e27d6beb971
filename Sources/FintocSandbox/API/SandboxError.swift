import Fintoc
import Hummingbird

/// An answer in Fintoc's error envelope, thrown anywhere in the API and rendered by
/// ``ErrorEnvelopeMiddleware`` (or by the API wrapper when the answer must be stored for
/// idempotent replay).
struct SandboxError: Error, Sendable {
    var status: HTTPResponse.Status
    var type: ErrorType
    var code: String
    var message: String
    var param: String?
    var headers: HTTPFields = [:]

    var envelope: ErrorEnvelope {
        ErrorEnvelope(.init(type: type, code: code, message: message, param: param, docURL: "https://docs.fintoc.com/reference/errors"))
    }

    static func missingParameter(_ param: String) -> Self {
        .init(
            status: .badRequest, type: .invalidRequestError, code: "missing_parameter", message: "Missing required param: \(param).",
            param: param)
    }

    static func invalidParameter(_ param: String, _ message: String, code: String = "invalid_parameter") -> Self {
        .init(status: .badRequest, type: .invalidRequestError, code: code, message: message, param: param)
    }

    static func missingResource(_ kind: String, id: String, param: String = "id") -> Self {
        .init(status: .notFound, type: .invalidRequestError, code: "missing_resource", message: "No such \(kind): '\(id)'.", param: param)
    }

    static func invalidState(_ message: String, code: String = "invalid_status") -> Self {
        .init(status: .conflict, type: .invalidRequestError, code: code, message: message)
    }

    static func invalidJSON(_ detail: String) -> Self {
        .init(
            status: .badRequest, type: .invalidRequestError, code: "invalid_json", message: "The request body is not valid JSON: \(detail)")
    }

    static let unknownRoute = Self(
        status: .notFound, type: .invalidRequestError, code: "invalid_route", message: "Unrecognized request URL.")
}
