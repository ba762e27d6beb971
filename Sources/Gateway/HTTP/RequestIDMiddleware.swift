import Hummingbird

/// Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new one),
/// puts it on the logger and on the answer, errors included (the error envelope middleware runs
/// inside this one), so a storefront's report and our logs name the same request.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = Self.sane(request.headers[.init("X-Request-Id")!]) ?? "req_" + RandomID.base62(count: 20)
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var response = try await next(request, context)
        response.headers[.init("X-Request-Id")!] = requestID
        return response
    }

    /// The caller's id when it is short and made of safe characters only: it goes into logs.
    static func sane(_ incoming: String?) -> String? {
        guard let incoming, incoming.count <= 128,
            incoming.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) })
        else { return nil }
        return incoming
    }
}
