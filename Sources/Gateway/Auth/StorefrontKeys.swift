import Crypto
import Foundation
import Synchronization

/// Who is calling: the storefront key that authenticated the request.
public struct Storefront: Sendable, Hashable {
    /// The key's id: idempotency keys are scoped to it.
    public let keyID: String
    /// The storefront's name, recorded on its orders.
    public let name: String
}

/// Storefront API keys: created from `STOREFRONT_API_KEYS` at start or with
/// `payments-gateway api-keys create`, stored only as SHA-256 hashes, checked in constant time.
///
/// The authenticator keeps the active hashes in memory and re-reads them every
/// `refreshInterval`, so a key revoked from the command line stops working within that time
/// without a restart.
public final class StorefrontKeys: Sendable {
    public static let keyPrefix = "cbk_"

    private let store: GatewayStore
    private let refreshInterval: Duration
    private let cache: Mutex<Cache>

    private struct Cache {
        var keys: [StorefrontKeyRecord] = []
        var loadedAt: ContinuousClock.Instant?
    }

    public init(store: GatewayStore, refreshInterval: Duration = .seconds(5)) {
        self.store = store
        self.refreshInterval = refreshInterval
        self.cache = Mutex(Cache())
    }

    /// The storefront whose key is `presented`, or nil. Every active key is compared, in
    /// constant time, so the time taken says nothing about which key came close.
    public func authenticate(_ presented: String) async throws -> Storefront? {
        let hash = Self.hash(presented)
        var match: StorefrontKeyRecord?
        for key in try await activeKeys() where Self.constantTimeEqual(key.keyHash, hash) {
            match = key
        }
        return match.map { Storefront(keyID: $0.id, name: $0.name) }
    }

    /// Creates a key for `name`; the returned secret is shown once and never stored.
    public func create(name: String, source: String = "cli", now: Date = Date()) async throws -> (id: String, secret: String) {
        let secret = Self.keyPrefix + RandomID.base62(count: 40)
        let record = StorefrontKeyRecord(
            id: "key_" + RandomID.base62(count: 16), name: name, keyHash: Self.hash(secret),
            keyPrefix: Self.displayPrefix(secret), source: StorefrontKeyRecord.Source(rawValue: source) ?? .cli,
            createdAt: now, revokedAt: nil
        )
        try await store.insertKey(record)
        invalidate()
        return (record.id, secret)
    }

    /// Makes the keys from configuration (`name:key` pairs) the active environment keys:
    /// new ones are added, ones no longer configured are revoked. CLI keys are left alone.
    public func syncConfigured(_ pairs: [(name: String, key: String)], now: Date = Date()) async throws {
        let wanted = Dictionary(pairs.map { (Self.hash($0.key), $0.name) }, uniquingKeysWith: { first, _ in first })
        try await store.syncEnvironmentKeys(wanted: wanted, now: now) { hash, name in
            let key = pairs.first { Self.hash($0.key) == hash }!.key
            return StorefrontKeyRecord(
                id: "key_" + RandomID.base62(count: 16), name: name, keyHash: hash,
                keyPrefix: Self.displayPrefix(key), source: .environment, createdAt: now, revokedAt: nil
            )
        }
        invalidate()
    }

    /// Every key, revoked ones included, newest first.
    public func list() async throws -> [StorefrontKeyInfo] {
        try await store.allKeys().map {
            StorefrontKeyInfo(
                id: $0.id, name: $0.name, prefix: $0.keyPrefix, source: $0.source.rawValue, createdAt: $0.createdAt, revokedAt: $0.revokedAt
            )
        }
    }

    /// Revokes the key with `id`; false when there is no such active key.
    public func revoke(id: String, now: Date = Date()) async throws -> Bool {
        let changed = try await store.revokeKey(id: id, now: now)
        invalidate()
        return changed
    }

    private func activeKeys() async throws -> [StorefrontKeyRecord] {
        let now = ContinuousClock.now
        if let keys = cache.withLock({ cache in
            cache.loadedAt.map { now - $0 < refreshInterval } == true ? cache.keys : nil
        }) {
            return keys
        }
        let keys = try await store.activeKeys()
        cache.withLock { $0 = Cache(keys: keys, loadedAt: now) }
        return keys
    }

    private func invalidate() {
        cache.withLock { $0.loadedAt = nil }
    }

    /// What `api-keys list` shows of a key: 10 characters of one made here (`cbk_` and 40 random
    /// ones, so 6 of them reveal nothing useful), only 4 of a configured key, which may be short.
    static func displayPrefix(_ key: String) -> String {
        key.hasPrefix(keyPrefix) && key.count >= 44 ? String(key.prefix(10)) : String(key.prefix(4))
    }

    static func hash(_ key: String) -> Data {
        Data(SHA256.hash(data: Data(key.utf8)))
    }

    static func constantTimeEqual(_ lhs: Data, _ rhs: Data) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        return difference == 0
    }
}

/// What `api-keys list` shows of a key: never the key itself.
public struct StorefrontKeyInfo: Sendable, Hashable, Codable {
    public let id: String
    public let name: String
    public let prefix: String
    public let source: String
    public let createdAt: Date
    public let revokedAt: Date?
}

/// Random identifiers from the system's secure generator.
enum RandomID {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    static func hex(count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: (0..<count).map { _ in digits.randomElement(using: &generator)! }, as: UTF8.self)
    }

    static func base62(count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String(decoding: (0..<count).map { _ in alphabet.randomElement(using: &generator)! }, as: UTF8.self)
    }
}
