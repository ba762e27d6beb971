import CobroTestSupport
import Foundation
import Testing

@testable import Fintoc

/// Failure paths of the client that need no Fintoc at all: nothing listening, and calls refused
/// before sending. The calls against a live API are in the sandbox's tests.
@Suite("Fintoc client transport")
struct ClientTransportTests {
    @Test("connection refused is retried, then reported as a transient failure")
    func connectionRefused() async throws {
        let refusing = try RefusingPort()
        defer { refusing.release() }
        let port = refusing.port
        let client = FintocClient(
            configuration: FintocClientConfiguration(
                baseURL: "http://127.0.0.1:\(port)", secretKey: "sk_test_x",
                connectTimeout: .milliseconds(500), requestTimeout: .seconds(2),
                retry: RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(20), maxDelay: .milliseconds(50))
            ))
        let started = ContinuousClock.now
        do {
            _ = try await client.paymentIntent("pi_1")
            Issue.record("reached a closed port")
        } catch {
            // Refused at once normally; on a loaded machine the client may keep trying to
            // connect until the deadline. Either way: a transient failure to reach Fintoc.
            switch error {
            case .transport, .timeout: break
            default:
                Issue.record("expected a transport error or a timeout, got \(error)")
                try await client.shutdown()
                return
            }
            #expect(error.isTransient)
        }
        // Two waits of 10 to 50 ms between three tries: it did retry, and not forever.
        #expect(ContinuousClock.now - started >= .milliseconds(20))
        try await client.shutdown()
    }

    @Test("a POST without an idempotency key is refused before anything is sent", arguments: ["", String(repeating: "k", count: 256)])
    func postNeedsKey(key: String) async throws {
        let refusing = try RefusingPort()
        defer { refusing.release() }
        let port = refusing.port
        let client = FintocClient(
            configuration: FintocClientConfiguration(baseURL: "http://127.0.0.1:\(port)", secretKey: "sk_test_x", retry: .never))
        do {
            _ = try await client.createPaymentIntent(CreatePaymentIntent(amount: 1000, currency: .clp), idempotencyKey: key)
            Issue.record("sent a POST without a usable key")
        } catch {
            guard case .invalidRequest(let reason) = error else {
                Issue.record("expected invalidRequest, got \(error)")
                try await client.shutdown()
                return
            }
            #expect(reason == "every POST needs an Idempotency-Key of 1 to 255 characters")
        }
        try await client.shutdown()
    }

    @Test("ids are escaped into one path segment")
    func escaping() {
        #expect(escaped("pi_1") == "pi_1")
        #expect(escaped("../v1/refunds?x=1") == "..%2Fv1%2Frefunds%3Fx%3D1")
        #expect(
            RequestTarget.path("/v1/payment_intents", query: [URLQueryItem(name: "page", value: "2")]).url(base: "http://h:1")
                == "http://h:1/v1/payment_intents?page=2")
    }

    @Test("a Link is followed only on the configured API's scheme, host and port: the secret key goes with it")
    func linksStayOnTheAPI() async throws {
        let client = FintocClient(configuration: FintocClientConfiguration(baseURL: "https://api.fintoc.com", secretKey: "sk_test_x"))
        #expect(
            client.sameOrigin(URL(string: "https://api.fintoc.com/v1/payment_intents?page=2")!)?.absoluteString
                == "https://api.fintoc.com/v1/payment_intents?page=2")
        #expect(
            client.sameOrigin(URL(string: "/v1/payment_intents?page=2")!)?.absoluteString
                == "https://api.fintoc.com/v1/payment_intents?page=2")
        #expect(client.sameOrigin(URL(string: "http://api.fintoc.com/v1/payment_intents?page=2")!) == nil, "no downgrade to http")
        #expect(client.sameOrigin(URL(string: "https://evil.example/v1/payment_intents")!) == nil)
        #expect(client.sameOrigin(URL(string: "https://api.fintoc.com:8443/v1/x")!) == nil)
        try await client.shutdown()
    }

    @Test("Fintoc's 'key still in use' is worth a retry; other conflicts are not")
    func keyInUseIsTransient() {
        let inUse = FintocAPIError(
            status: 409, envelope: .init(type: .invalidRequestError, code: "idempotency_key_in_use", message: nil), requestID: nil)
        let other = FintocAPIError(
            status: 409, envelope: .init(type: .invalidRequestError, code: "customer_exists", message: nil), requestID: nil)
        #expect(FintocClientError.api(inUse).isTransient)
        #expect(!FintocClientError.api(other).isTransient)
    }
}
