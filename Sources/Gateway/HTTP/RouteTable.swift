import Hummingbird

/// The methods each of the gateway's paths answers, so that a known path asked with another
/// method gets 405 with `Allow` (RFC 9110) instead of the 404 Hummingbird's router gives it: the
/// caller learns the path is right and the method wrong.
///
/// Keep in step with the routes `buildApplication` registers; `APIConformanceTests` checks that
/// every entry here is routed. A route missing here only answers 404 to a wrong method.
enum RouteTable {
    static let routes: [(path: String, methods: [HTTPRequest.Method])] = [
        ("/healthz", [.get]),
        ("/readyz", [.get]),
        ("/metrics", [.get]),
        ("/v1/checkouts", [.post]),
        ("/v1/checkouts/{checkout_id}", [.get]),
        ("/v1/checkouts/{checkout_id}/expire", [.post]),
        ("/v1/orders/{order_id}", [.get]),
    ]

    /// The methods `path` answers, nil when no route has that path. Segments are compared as the
    /// router does: empty ones are skipped, and `{name}` matches any one segment.
    static func allowedMethods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        for route in routes {
            let pattern = route.path.split(separator: "/")
            guard pattern.count == segments.count else { continue }
            if zip(pattern, segments).allSatisfy({ expected, actual in expected.first == "{" || expected == actual }) {
                return route.methods
            }
        }
        return nil
    }

    /// 405 naming the methods `path` answers, or nil when the path is unknown or takes `method`.
    static func methodNotAllowed(_ method: HTTPRequest.Method, path: String) -> APIError? {
        guard let allowed = allowedMethods(for: path), !allowed.contains(method) else { return nil }
        let names = allowed.map(\.rawValue).joined(separator: ", ")
        var error = APIError(.methodNotAllowed, .invalidRequest, code: "method_not_allowed", message: "this route takes \(names), not \(method.rawValue)")
        error.headers[.allow] = names
        return error
    }
}
