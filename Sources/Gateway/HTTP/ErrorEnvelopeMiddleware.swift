import Foundation
import Hummingbird
import Logging
import NIOHTTP1

/// Turns every failure into the API's error envelope: unknown routes, methods a route does not
/// take, bodies too large and unexpected errors included. Never a stack trace or an error's text
/// the caller should not see.
struct ErrorEnvelopeMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let routes: RouteTableHolder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPResponseError {
            // The router answers 404 to a known path with a method it does not take.
            let refusal = error.status == .notFound ? routes.current.methodNotAllowed(request.method, path: request.uri.path) : nil
            return try (refusal ?? Self.envelope(for: error.status)).response(from: request, context: context)
        } catch let error as HTTPParserError {
            // The client's request broke off (e.g. cut at the request timeout mid-body): its
            // problem, not ours, and an attacker must not fill the log with errors. Hummingbird
            // closes the connection.
            context.logger.debug("request broke off", metadata: ["error": "\(error)"])
            throw error
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return try APIError(.internalServerError, .api, code: "internal_error", message: "internal error")
                .response(from: request, context: context)
        }
    }

    /// The envelope for an error Hummingbird raised itself.
    static func envelope(for status: HTTPResponse.Status) -> APIError {
        switch status {
        case .notFound: APIError(.notFound, .invalidRequest, code: "route_not_found", message: "no such route")
        case .methodNotAllowed:
            APIError(.methodNotAllowed, .invalidRequest, code: "method_not_allowed", message: "this route does not take that method")
        case .contentTooLarge: APIError(.contentTooLarge, .invalidRequest, code: "body_too_large", message: "the request body is too large")
        default: APIError(status, status.code >= 500 ? .api : .invalidRequest, code: "http_\(status.code)", message: status.reasonPhrase)
        }
    }
}
