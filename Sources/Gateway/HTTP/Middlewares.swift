import Foundation
import Hummingbird
import Logging
import NIOHTTP1

/// Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new one),
/// puts it on the logger and the answer, and turns every failure into the API's error envelope:
/// unknown routes, bodies too large and unexpected errors included.
struct RequestIDAndErrorsMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let routes: RouteTableHolder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let incoming = request.headers[.init("X-Request-Id")!]
        let requestID = incoming.flatMap { $0.count <= 128 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) } ? $0 : nil }
            ?? "req_" + RandomID.base62(count: 20)
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch let error as HTTPResponseError {
            // The router answers 404 to a known path with a method it does not take.
            let refusal = error.status == .notFound ? routes.current.methodNotAllowed(request.method, path: request.uri.path) : nil
            response = try (refusal ?? Self.envelope(for: error.status)).response(from: request, context: context)
        } catch let error as HTTPParserError {
            // The client's request broke off (e.g. cut at the request timeout mid-body): its
            // problem, not ours, and an attacker must not fill the log with errors. Hummingbird
            // closes the connection.
            context.logger.debug("request broke off", metadata: ["error": "\(error)"])
            throw error
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            response = try APIError(.internalServerError, .api, code: "internal_error", message: "internal error")
                .response(from: request, context: context)
        }
        response.headers[.init("X-Request-Id")!] = requestID
        return response
    }

    /// The envelope for an error Hummingbird raised itself.
    static func envelope(for status: HTTPResponse.Status) -> APIError {
        switch status {
        case .notFound: APIError(.notFound, .invalidRequest, code: "route_not_found", message: "no such route")
        case .methodNotAllowed: APIError(.methodNotAllowed, .invalidRequest, code: "method_not_allowed", message: "this route does not take that method")
        case .contentTooLarge: APIError(.contentTooLarge, .invalidRequest, code: "body_too_large", message: "the request body is too large")
        default: APIError(status, status.code >= 500 ? .api : .invalidRequest, code: "http_\(status.code)", message: status.reasonPhrase)
        }
    }
}

/// `Authorization: Bearer <storefront key>` on every storefront route.
struct StorefrontAuthMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let keys: StorefrontKeys

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw Self.unauthorized("missing_api_key", "send Authorization: Bearer <storefront key>")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw Self.unauthorized("invalid_authorization", "the Authorization header must be Bearer <storefront key>")
        }
        guard let storefront = try await keys.authenticate(String(parts[1])) else {
            throw Self.unauthorized("invalid_api_key", "the storefront key is not valid or was revoked")
        }
        var context = context
        context.storefront = storefront
        context.logger[metadataKey: "storefront"] = .string(storefront.name)
        return try await next(request, context)
    }

    static func unauthorized(_ code: String, _ message: String) -> APIError {
        var error = APIError(.unauthorized, .authentication, code: code, message: message)
        error.headers[.wwwAuthenticate] = "Bearer"
        return error
    }
}
