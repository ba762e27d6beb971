import Fintoc
import Hummingbird
import Logging

/// The outermost middleware: every answer carries `X-Request-Id`, and every error (ours, an
/// unknown route, anything unexpected) leaves in Fintoc's envelope, never as a stack trace.
struct EnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = SandboxID.request()
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as SandboxError {
            response = error.response()
        } catch let error as HTTPError {
            if error.status == .notFound {
                response = SandboxError.unknownRoute.response()
            } else {
                let code = error.status == .contentTooLarge ? "request_too_large" : "invalid_request"
                response = SandboxError(
                    status: error.status, type: .invalidRequestError, code: code, message: error.body ?? error.status.reasonPhrase
                ).response()
            }
        } catch {
            logger.debug("unexpected error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            response = SandboxError(
                status: .internalServerError, type: .apiError, code: "internal_server_error",
                message: "The sandbox failed to answer this request."
            ).response()
        }
        response.headers[.requestID] = requestID
        logger.trace(
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "request_id": "\(requestID)",
            ])
        return response
    }
}

/// The `api_errors` fault: makes the next matching API calls (under `/v1` and `/v2`) fail with
/// the configured status, so a client's retry logic can be tested.
struct APIFaultMiddleware<Context: RequestContext>: RouterMiddleware {
    let store: SandboxStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        // Only a request that would pass authentication takes an injected failure, like an
        // outage behind Fintoc's front door; a stray unauthenticated call cannot use one up.
        guard path.hasPrefix("/v1/") || path.hasPrefix("/v2/"),
            (try? Authenticator(configuration: store.configuration).requireSecretKey(request.headers[.authorization])) != nil,
            let status = await store.takeAPIError(method: request.method.rawValue, path: path)
        else {
            return try await next(request, context)
        }
        throw SandboxError.injected(status: status)
    }
}

extension SandboxError {
    /// The answer Fintoc gives for an HTTP status, used by the `api_errors` fault.
    static func injected(status code: Int) -> SandboxError {
        let status = HTTPResponse.Status(code: code)
        var headers: HTTPFields = [:]
        let (type, errorCode, message): (ErrorType, String, String)
        switch code {
        case 429:
            (type, errorCode, message) = (.apiError, "rate_limit_exceeded", "Too many requests; slow down.")
            headers[.retryAfter] = "1"
        case 500:
            (type, errorCode, message) = (.apiError, "internal_server_error", "Something went wrong on Fintoc's side (injected).")
        case 502, 503, 504:
            (type, errorCode, message) = (.apiError, "service_unavailable", "The service is temporarily unavailable (injected).")
            headers[.retryAfter] = "1"
        case 401:
            (type, errorCode, message) = (.authenticationError, "invalid_api_key", "Invalid API key (injected).")
        case 404:
            (type, errorCode, message) = (.invalidRequestError, "missing_resource", "No such resource (injected).")
        default:
            (type, errorCode, message) = (
                code >= 500 ? .apiError : .invalidRequestError, code >= 500 ? "internal_server_error" : "invalid_request",
                "Injected error \(code)."
            )
        }
        return SandboxError(status: status, type: type, code: errorCode, message: message, headers: headers)
    }
}
