import AsyncHTTPClient
import Fintoc
import HTTPServerLimits
import Hummingbird
import Logging
import ServiceLifecycle

/// The sandbox's parts, built once so a test can reach the store behind the running
/// application (to read events, deliveries or set faults without HTTP).
public struct Sandbox: Sendable {
    public let configuration: SandboxConfiguration
    public let store: SandboxStore
    public let logger: Logger

    public init(configuration: SandboxConfiguration, logger: Logger = Logger(label: "fintoc-sandbox")) {
        self.configuration = configuration
        self.logger = logger
        self.store = SandboxStore(configuration: configuration, logger: logger)
    }

    /// The router with every controller; exposed for `app.test(.router)`-style tests.
    func buildRouter() -> Router<SandboxContext> {
        let router = Router(context: SandboxContext.self)
        // Added before any route: router-level middleware wraps the routes added after it and
        // the not-found responder.
        router.add(middleware: EnvelopeMiddleware(logger: logger))
        router.add(middleware: APIFaultMiddleware(store: store))
        let api = APIRoutes(store: store, configuration: configuration, logger: logger)
        router.get("health") { _, _ in "ok" }
        PaymentsController(api: api).addRoutes(to: router)
        ResourcesController(api: api).addRoutes(to: router)
        CustomersController(api: api).addRoutes(to: router)
        ControlController(api: api).addRoutes(to: router)
        CustomerFlowController(store: store, configuration: configuration).addRoutes(to: router)
        WidgetController(store: store, configuration: configuration).addRoutes(to: router)
        return router
    }
}

/// The application the executable runs and the tests start: the HTTP server plus the webhook
/// dispatcher and the expiry sweeper as services, all stopped together on graceful shutdown.
public func buildApplication(configuration: SandboxConfiguration, logger: Logger = Logger(label: "fintoc-sandbox")) async throws
    -> some ApplicationProtocol
{
    buildApplication(sandbox: Sandbox(configuration: configuration, logger: logger))
}

/// Same, from parts built by the caller, who keeps `sandbox.store` in hand. Without
/// `httpClient`, deliveries use a client of their own (no redirects), shut down with the app.
public func buildApplication(sandbox: Sandbox, httpClient: HTTPClient? = nil) -> some ApplicationProtocol {
    // No metrics exposition in the sandbox: the limiter logs when its cap is reached.
    let limiter = ConnectionLimiter(limits: sandbox.configuration.limits, listener: "sandbox", metrics: nil, logger: sandbox.logger)
    var app = Application(
        router: sandbox.buildRouter(),
        server: .http1(limitedBy: limiter),
        configuration: .init(
            address: .hostname(sandbox.configuration.host, port: sandbox.configuration.port), serverName: "fintoc-sandbox"),
        logger: sandbox.logger
    )
    let client = httpClient ?? WebhookPoster.makeClient()
    app.addServices(
        WebhookDispatcher(store: sandbox.store, configuration: sandbox.configuration, client: client, logger: sandbox.logger),
        ExpirySweeper(store: sandbox.store, interval: sandbox.configuration.sweepInterval)
    )
    if httpClient == nil {
        app.addServices(ClientShutdown(client: client))
    }
    return app
}

/// Shuts a client down once the application stops.
struct ClientShutdown: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
