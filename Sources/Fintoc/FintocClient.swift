import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import PaymentsCore

/// How the client reaches Fintoc (or the sandbox standing in for it).
public struct FintocClientConfiguration: Sendable {
    /// `https://api.fintoc.com` in production; the local sandbox by default.
    public var baseURL: String
    /// `sk_test_…` or `sk_live_…`; sent as the raw `Authorization` value, never logged.
    public var secretKey: String
    /// `Fintoc-Version` pin; nil sends none (the account's default).
    public var apiVersion: String?
    public var connectTimeout: Duration
    /// Limit for one attempt, from sending to the last byte of the answer.
    public var requestTimeout: Duration
    public var retry: RetryPolicy
    /// Answers larger than this are refused rather than buffered.
    public var maxResponseBytes: Int

    public init(
        baseURL: String = "http://127.0.0.1:8090",
        secretKey: String,
        apiVersion: String? = nil,
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(30),
        retry: RetryPolicy = RetryPolicy(),
        maxResponseBytes: Int = 8 << 20
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.secretKey = secretKey
        self.apiVersion = apiVersion
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.retry = retry
        self.maxResponseBytes = maxResponseBytes
    }
}

/// Fintoc's REST API over AsyncHTTPClient: typed requests and answers, the caller's
/// `Idempotency-Key` on every POST, retries with backoff on 429, 5xx and transport failures, and
/// typed errors from Fintoc's envelope.
///
/// Call `shutdown()` before dropping a client that created its own `HTTPClient`.
public final class FintocClient: Sendable {
    public let configuration: FintocClientConfiguration
    private let httpClient: HTTPClient
    private let ownsHTTPClient: Bool
    private let logger: Logger

    /// Uses `httpClient` when given (its owner shuts it down), else makes one with the
    /// configuration's connect timeout.
    public init(configuration: FintocClientConfiguration, httpClient: HTTPClient? = nil, logger: Logger = Logger(label: "cobro.fintoc")) {
        self.configuration = configuration
        self.logger = logger
        if let httpClient {
            self.httpClient = httpClient
            ownsHTTPClient = false
        } else {
            var clientConfiguration = HTTPClient.Configuration()
            clientConfiguration.timeout.connect = TimeAmount(configuration.connectTimeout)
            clientConfiguration.timeout.read = TimeAmount(configuration.requestTimeout)
            clientConfiguration.decompression = .enabled(limit: .ratio(20))
            self.httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
            ownsHTTPClient = true
        }
    }

    public func shutdown() async throws {
        if ownsHTTPClient {
            try await httpClient.shutdown()
        }
    }

    // MARK: - Transport

    /// One API call with retries; decodes a 2xx answer as `Response`.
    func send<Response: Decodable & Sendable>(
        _ method: HTTPMethod,
        _ target: RequestTarget,
        body: (some Encodable & Sendable)? = Optional<JSONValue>.none,
        idempotencyKey: String? = nil,
        as: Response.Type = Response.self
    ) async throws(FintocClientError) -> (Response, HTTPHeaders) {
        if method == .POST {
            guard let idempotencyKey, !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= 255 else {
                throw .invalidRequest("every POST needs an Idempotency-Key of 1 to 255 characters")
            }
        }
        let url = target.url(base: configuration.baseURL)
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: configuration.secretKey)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "cobro-fintoc-client/1")
        if let version = configuration.apiVersion { request.headers.add(name: "Fintoc-Version", value: version) }
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        var payload: ByteBuffer?
        if let body {
            do {
                payload = ByteBuffer(data: try FintocJSON.encoder().encode(body))
            } catch {
                throw .invalidRequest("the request body could not be encoded: \(error)")
            }
            request.headers.add(name: "Content-Type", value: "application/json")
        }

        var attempt = 1
        while true {
            if let payload { request.body = .bytes(payload) }
            let outcome = await attemptOnce(request, method: method, path: target.path, attempt: attempt)
            switch outcome {
            case .success(let status, let headers, let bytes):
                do {
                    return (try FintocJSON.decoder().decode(Response.self, from: bytes), headers)
                } catch {
                    throw .invalidResponse(status: status, requestID: headers.first(name: "X-Request-Id"), reason: "\(error)")
                }
            case .failure(let error, let retryAfter):
                guard error.isTransient, attempt < configuration.retry.maxAttempts else { throw error }
                let delay = configuration.retry.delay(beforeRetry: attempt, retryAfter: retryAfter)
                logger.debug(
                    "fintoc request will be retried",
                    metadata: [
                        "method": "\(method.rawValue)", "path": "\(target.path)", "attempt": "\(attempt)",
                        "delay_ms": "\(delay.milliseconds)", "error": "\(error)",
                    ])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw .transport("cancelled while waiting to retry")
                }
                attempt += 1
            }
        }
    }

    private enum Outcome {
        case success(status: Int, headers: HTTPHeaders, body: Data)
        case failure(FintocClientError, retryAfter: Duration?)
    }

    private func attemptOnce(_ request: HTTPClientRequest, method: HTTPMethod, path: String, attempt: Int) async -> Outcome {
        let started = ContinuousClock.now
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: TimeAmount(configuration.requestTimeout), logger: logger)
            bytes = try await response.body.collect(upTo: configuration.maxResponseBytes)
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            return .failure(.timeout, retryAfter: nil)
        } catch is NIOTooManyBytesError {
            return .failure(
                .invalidResponse(status: 0, requestID: nil, reason: "answer larger than \(configuration.maxResponseBytes) bytes"),
                retryAfter: nil)
        } catch {
            return .failure(.transport(String(describing: error)), retryAfter: nil)
        }
        let status = Int(response.status.code)
        let requestID = response.headers.first(name: "X-Request-Id")
        logger.debug(
            "fintoc answered",
            metadata: [
                "method": "\(method.rawValue)", "path": "\(path)", "status": "\(status)", "attempt": "\(attempt)",
                "request_id": "\(requestID ?? "-")", "elapsed_ms": "\((ContinuousClock.now - started).milliseconds)",
            ])
        let body = Data(buffer: bytes)
        if (200...299).contains(status) {
            return .success(status: status, headers: response.headers, body: body)
        }
        let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
        guard let envelope = try? FintocJSON.decoder().decode(ErrorEnvelope.self, from: body) else {
            let snippet = String(decoding: body.prefix(200), as: UTF8.self)
            return .failure(
                .invalidResponse(status: status, requestID: requestID, reason: "error answer without Fintoc's envelope: \(snippet)"),
                retryAfter: retryAfter)
        }
        return .failure(.api(FintocAPIError(status: status, envelope: envelope.error, requestID: requestID)), retryAfter: retryAfter)
    }
}

/// Where a request goes: a path with query items, or a full URL (a `Link` header's).
struct RequestTarget: Sendable {
    let path: String
    let query: [URLQueryItem]
    let absoluteURL: URL?

    static func path(_ path: String, query: [URLQueryItem] = []) -> RequestTarget {
        RequestTarget(path: path, query: query, absoluteURL: nil)
    }

    static func url(_ url: URL) -> RequestTarget {
        RequestTarget(path: url.path, query: [], absoluteURL: url)
    }

    func url(base: String) -> String {
        if let absoluteURL { return absoluteURL.absoluteString }
        guard !query.isEmpty, var components = URLComponents(string: base + path) else { return base + path }
        components.queryItems = query
        return components.string ?? base + path
    }
}

/// A path segment with everything outside the unreserved set escaped, so an id can never
/// change the path it is put into.
func escaped(_ segment: String) -> String {
    segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? segment
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
