import Hummingbird

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
