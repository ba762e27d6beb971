import Fintoc
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat
import PaymentsCore

/// A finished API answer: status, JSON bytes and extra headers. Kept as bytes (not a streaming
/// body) so the first answer to an `Idempotency-Key` can be stored and replayed exactly.
struct APIAnswer: Sendable {
    var status: HTTPResponse.Status
    var body: Data
    var headers: HTTPFields = [:]

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> APIAnswer {
        APIAnswer(status: status, body: Rendering.data(value))
    }

    static func encoded(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> APIAnswer {
        APIAnswer(status: status, body: Rendering.data(value))
    }

    static func error(_ error: SandboxError) -> APIAnswer {
        APIAnswer(status: error.status, body: Rendering.data(error.envelope), headers: error.headers)
    }

    func response() -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: body)))
    }
}

extension SandboxError {
    func response() -> Response { APIAnswer.error(self).response() }
}

typealias HeaderName = HTTPFields.Element.Name

extension HeaderName {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
    static let requestID = Self("X-Request-Id")!
    static let link = Self("Link")!
    static let fintocSignature = Self("Fintoc-Signature")!
}
