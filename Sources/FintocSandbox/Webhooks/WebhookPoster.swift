import AsyncHTTPClient
import Fintoc
import Foundation
import NIOCore
import NIOFoundationCompat

/// Sends one signed webhook: `POST` of the raw event JSON with `Content-Type: application/json`
/// and `Fintoc-Signature: t=<unix>,v1=<hex>`. Shared by the dispatcher and the `trigger` command
/// so both sign exactly alike.
public struct WebhookPoster: Sendable {
    public struct Result: Sendable {
        public var statusCode: Int?
        public var error: String?
        public var signature: String
        public var succeeded: Bool { statusCode.map { (200..<300).contains($0) } ?? false }
    }

    let client: HTTPClient
    let timeout: TimeInterval

    public init(client: HTTPClient, timeout: TimeInterval) {
        self.client = client
        self.timeout = timeout
    }

    /// A client for deliveries. It never follows redirects: Fintoc acknowledges a delivery only
    /// with a 2xx, and following a 3xx would turn the signed POST into a GET that may "succeed".
    /// The caller shuts it down.
    public static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Posts `body` to `url`, signed with `secret` at `timestamp` (Unix seconds). Never throws:
    /// a failure to connect or a timeout is a result like a 500.
    public func post(body: Data, to url: String, secret: String, timestamp: Int64) async -> Result {
        let signature = WebhookSigner(secret: secret).header(for: body, timestamp: timestamp)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: WebhookSigner.headerName, value: signature)
        request.headers.add(name: "User-Agent", value: "Fintoc-Sandbox/1.0 (+webhooks)")
        request.body = .bytes(ByteBuffer(data: body))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            _ = try? await response.body.collect(upTo: 1 << 20)
            return Result(statusCode: Int(response.status.code), error: nil, signature: signature)
        } catch {
            return Result(statusCode: nil, error: "\(error)", signature: signature)
        }
    }
}
