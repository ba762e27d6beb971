import Hummingbird
import Synchronization

/// The methods each of the gateway's paths answers, so that a known path asked with another
/// method gets 405 with `Allow` (RFC 9110) instead of the 404 Hummingbird's router gives it: the
/// caller learns the path is right and the method wrong.
///
/// Built from the router's own routes once they are registered, so it can never drift from them.
struct RouteTable: Sendable {
    let routes: [(path: String, methods: [HTTPRequest.Method])]

    init(_ routes: [(path: String, methods: [HTTPRequest.Method])]) {
        self.routes = routes
    }

    /// The table of everything `router` routes.
    init<Context>(router: Router<Context>) {
        var methods: [String: [HTTPRequest.Method]] = [:]
        var order: [String] = []
        for route in router.routes {
            let path = route.path.description.hasPrefix("/") ? route.path.description : "/" + route.path.description
            if methods[path] == nil { order.append(path) }
            methods[path, default: []].append(route.method)
        }
        self.init(order.map { ($0, methods[$0]!) })
    }

    /// The methods `path` answers, nil when no route has that path. Segments are compared as the
    /// router does: empty ones are skipped, and a parameter (`{name}`, `:name`, `*`) matches any one.
    func allowedMethods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        for route in routes {
            let pattern = route.path.split(separator: "/")
            guard pattern.count == segments.count else { continue }
            if zip(pattern, segments).allSatisfy({ expected, actual in Self.isParameter(expected) || expected == actual }) {
                return route.methods
            }
        }
        return nil
    }

    static func isParameter(_ segment: Substring) -> Bool {
        segment.first == "{" || segment.first == ":" || segment == "*"
    }

    /// 405 naming the methods `path` answers, or nil when the path is unknown or takes `method`.
    func methodNotAllowed(_ method: HTTPRequest.Method, path: String) -> APIError? {
        guard let allowed = allowedMethods(for: path), !allowed.contains(method) else { return nil }
        let names = allowed.map(\.rawValue).joined(separator: ", ")
        var error = APIError(
            .methodNotAllowed, .invalidRequest, code: "method_not_allowed", message: "this route takes \(names), not \(method.rawValue)")
        error.headers[.allow] = names
        return error
    }
}

/// Where the error middleware finds the route table: router middleware is wrapped around each
/// route as it registers, so the middleware exists before the routes, and the table is filled
/// in once they all are.
final class RouteTableHolder: Sendable {
    private let table = Mutex(RouteTable([]))

    var current: RouteTable { table.withLock { $0 } }

    func set(_ routes: RouteTable) {
        table.withLock { $0 = routes }
    }
}
