import Hummingbird
import Logging

/// Per-request state: the request id every log line carries, and the storefront once
/// authenticated.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var storefront: Storefront?
    public var requestID = ""

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies are collected by the handlers with the configured limit; this one only guards
    /// Hummingbird's own decoding helpers.
    public var maxUploadSize: Int { 64 * 1024 }
}
