import Foundation
import Hummingbird
import PaymentsCore

/// Every error the storefront API answers, as one JSON envelope:
/// `{"error": {"type", "code", "message", "param", "details"}}`. Never a stack trace, never a
/// secret.
public struct APIError: Error, HTTPResponseError, Sendable {
    public enum Kind: String, Sendable {
        case invalidRequest = "invalid_request_error"
        case authentication = "authentication_error"
        case idempotency = "idempotency_error"
        /// Fintoc failed or could not be reached.
        case provider = "provider_error"
        case api = "api_error"
    }

    public struct Detail: Sendable, Codable, Hashable {
        public let param: String
        public let code: String
        public let message: String
    }

    public let status: HTTPResponse.Status
    public let kind: Kind
    public let code: String
    public let message: String
    public let param: String?
    /// Every field issue when validation found several.
    public let details: [Detail]
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ kind: Kind, code: String, message: String, param: String? = nil, details: [Detail] = []) {
        self.status = status
        self.kind = kind
        self.code = code
        self.message = message
        self.param = param
        self.details = details
    }

    /// 400 listing every issue; the first names `param`.
    public static func validation(_ error: ValidationError) -> APIError {
        let first = error.issues[0]
        return APIError(
            .badRequest, .invalidRequest, code: first.code,
            message: error.issues.count == 1 ? "\(first.path): \(first.reason)" : "\(error.issues.count) fields are invalid; see details",
            param: first.path.isEmpty ? nil : first.path,
            details: error.issues.map { Detail(param: $0.path, code: $0.code, message: $0.reason) }
        )
    }

    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, .invalidRequest, code: "resource_missing", message: "\(what) does not exist")
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: body)))
        response.headers[.contentType] = "application/json"
        return response
    }

    /// The JSON body; also what an idempotency record replays.
    public var body: Data {
        struct Envelope: Encodable {
            struct Body: Encodable {
                let type: String
                let code: String
                let message: String
                let param: String?
                let details: [Detail]?
            }
            let error: Body
        }
        let envelope = Envelope(
            error: .init(type: kind.rawValue, code: code, message: message, param: param, details: details.isEmpty ? nil : details))
        return (try? Timestamp.jsonEncoder().encode(envelope))
            ?? Data(#"{"error":{"type":"api_error","code":"internal","message":"internal error"}}"#.utf8)
    }
}
