import Crypto
import Fintoc
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

typealias SandboxContext = BasicRequestContext

/// One authenticated API call as a handler sees it: the request, its path parameters and its
/// whole body.
struct APICall: Sendable {
    let request: Request
    let context: SandboxContext
    let body: Data

    func fields() throws(SandboxError) -> BodyFields { try BodyFields.parse(body) }

    func id(_ name: String = "id") throws -> String {
        try context.parameters.require(name)
    }

    func query(_ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map(String.init)
    }
}

/// The plumbing every API route shares, in the order Fintoc applies it: authentication (a
/// failure stores nothing), the body limit, `Idempotency-Key` claim and replay, the handler, and
/// storing the first answer (errors included) for replay.
struct APIRoutes: Sendable {
    static let maxBodySize = 1 << 20
    static let maxIdempotencyKeyLength = 255

    let store: SandboxStore
    let configuration: SandboxConfiguration
    let logger: Logger

    typealias Handler = @Sendable (APICall) async throws -> APIAnswer

    func handler(_ handler: @escaping Handler) -> @Sendable (Request, SandboxContext) async throws -> Response {
        { request, context in
            try await respond(request, context: context, handler: handler).response()
        }
    }

    private func respond(_ request: Request, context: SandboxContext, handler: Handler) async throws -> APIAnswer {
        do {
            try Authenticator(configuration: configuration).requireSecretKey(request.headers[.authorization])
        } catch {
            return .error(error)
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maxBodySize)
        } catch {
            return .error(
                SandboxError(
                    status: .contentTooLarge, type: .invalidRequestError, code: "request_too_large",
                    message: "The request body is larger than \(Self.maxBodySize) bytes."))
        }
        let body = Data(buffer: buffer)
        let call = APICall(request: request, context: context, body: body)

        guard request.method == .post, let key = request.headers[.idempotencyKey] else {
            return await run(handler, call)
        }
        guard !key.isEmpty, key.count <= Self.maxIdempotencyKeyLength else {
            return .error(
                .invalidParameter(
                    "Idempotency-Key", "The Idempotency-Key header must be 1 to \(Self.maxIdempotencyKeyLength) characters.",
                    code: "invalid_idempotency_key"))
        }
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        hasher.update(data: body)
        let fingerprint = hasher.finalize().map { String(format: "%02x", $0) }.joined()

        switch await store.beginIdempotent(key: key, fingerprint: fingerprint) {
        case .replay(let stored):
            logger.trace("idempotent replay", metadata: ["path": "\(request.uri.path)"])
            var answer = APIAnswer(status: stored.status, body: stored.body)
            answer.headers[.idempotentReplayed] = "true"
            return answer
        case .mismatch:
            return .error(
                SandboxError(
                    status: .badRequest, type: .invalidRequestError, code: "idempotency_key_reused",
                    message:
                        "This Idempotency-Key was already used with a different request (method, path or body). Use a new key for a new request.",
                    param: "Idempotency-Key"
                )
            )
        case .inFlight:
            return .error(
                SandboxError(
                    status: .conflict, type: .invalidRequestError, code: "idempotency_key_in_use",
                    message: "A request with this Idempotency-Key is still being processed; retry later.", param: "Idempotency-Key"
                )
            )
        case .proceed:
            let answer = await run(handler, call)
            await store.finishIdempotent(key: key, response: StoredResponse(status: answer.status, body: answer.body))
            return answer
        }
    }

    private func run(_ handler: Handler, _ call: APICall) async -> APIAnswer {
        do {
            return try await handler(call)
        } catch let error as SandboxError {
            return .error(error)
        } catch {
            logger.debug("API handler failed", metadata: ["error": "\(String(reflecting: error))"])
            return .error(
                SandboxError(
                    status: .badRequest, type: .invalidRequestError, code: "invalid_request", message: "The request could not be processed."
                ))
        }
    }
}

/// Checks `Authorization: <key>` or `Authorization: Bearer <key>` against the configured keys.
struct Authenticator: Sendable {
    let configuration: SandboxConfiguration

    func requireSecretKey(_ header: String?) throws(SandboxError) {
        var key = header?.trimmingCharacters(in: .whitespaces) ?? ""
        if key.lowercased().hasPrefix("bearer ") { key = String(key.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
        guard !key.isEmpty else {
            throw SandboxError(
                status: .unauthorized, type: .authenticationError, code: "invalid_api_key",
                message: "No API key provided. Send your secret key in the Authorization header.")
        }
        if key == configuration.secretKey { return }
        if key.hasPrefix("pk_") {
            throw SandboxError(
                status: .unauthorized, type: .authenticationError, code: "invalid_api_key_mode",
                message: "This request needs a secret key (sk_...); a public key was given.")
        }
        if key.hasPrefix("sk_live_") {
            throw SandboxError(
                status: .unauthorized, type: .authenticationError, code: "invalid_api_key_mode",
                message: "The sandbox only accepts test-mode keys; a live key was given.")
        }
        throw SandboxError(status: .unauthorized, type: .authenticationError, code: "invalid_api_key", message: "Invalid API key provided.")
    }
}
