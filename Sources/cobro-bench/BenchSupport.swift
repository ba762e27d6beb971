import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

/// Pieces the HTTP benchmarks share: the client, a bounded parallel loop, and checkouts made
/// through the gateway's API.
enum BenchHTTP {
    /// A base URL without its trailing slash.
    static func trimmed(_ base: String) -> String { base.hasSuffix("/") ? String(base.dropLast()) : base }

    /// An HTTP/1 client with up to `connections` connections per host, so the load generator
    /// never queues requests itself.
    static func client(connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.httpVersion = .http1Only
        configuration.timeout.connect = .seconds(5)
        configuration.timeout.read = .seconds(30)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs `work` for indexes 0..<count, `width` at a time; results in index order.
    static func parallel<T: Sendable>(count: Int, width: Int, _ work: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        let next = Counter()
        return try await withThrowingTaskGroup(of: [(Int, T)].self) { group in
            for _ in 0..<min(width, count) {
                group.addTask {
                    var done: [(Int, T)] = []
                    while true {
                        let index = next.increment()
                        guard index < count else { break }
                        done.append((index, try await work(index)))
                    }
                    return done
                }
            }
            var all: [(Int, T)] = []
            for try await part in group { all += part }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// `count` widget payment-intent checkouts through `POST /v1/checkouts`, 16 at a time; the
    /// body of number `index` comes from `body`. Returns each one's checkout id and `pi_…`.
    static func paymentIntentCheckouts(
        _ client: HTTPClient, gateway: String, key: String, count: Int, width: Int = 16,
        idempotencyPrefix: String, body: @escaping @Sendable (Int) -> String
    ) async throws -> [(checkout: String, provider: String)] {
        let base = trimmed(gateway)
        return try await parallel(count: count, width: width) { index in
            var request = HTTPClientRequest(url: base + "/v1/checkouts")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Idempotency-Key", value: "\(idempotencyPrefix)-\(index)")
            request.body = .bytes(ByteBuffer(string: body(index)))
            let response = try await client.execute(request, timeout: .seconds(30))
            let answer = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .created, let json = try JSONSerialization.jsonObject(with: Data(buffer: answer)) as? [String: Any],
                let id = json["id"] as? String, let provider = json["provider_id"] as? String
            else { throw ValidationError("checkout creation answered \(response.status.code): \(String(buffer: answer).prefix(300))") }
            return (id, provider)
        }
    }
}

/// Nearest-rank percentile of ascending `sorted`: the smallest value with at least `q` of them at
/// or below it (0 when empty).
func nearestRank(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((q * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}
