import Fintoc
import Foundation
import PaymentsCore

/// Everything the gateway needs to run, from the environment; every default makes the local
/// stack (sandbox, local broker) run with no configuration at all.
public struct GatewayConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var databasePath = "./var/gateway.sqlite"
    public var amqpURL = "amqp://guest:guest@127.0.0.1:5672/"
    public var fintoc = FintocClientConfiguration(secretKey: "sk_test_sandbox")
    public var fintocPublicKey = "pk_test_sandbox"
    /// For direct payment intents to one account.
    public var fintocRecipientAccount: BankAccount?
    /// `(name, key)` pairs accepted as storefront keys besides those made with `api-keys create`.
    public var storefrontKeys: [(name: String, key: String)] = []
    /// Largest storefront request body accepted.
    public var maxBodyBytes = 64 * 1024
    /// Lifetime assumed for a widget checkout whose Fintoc object names no expiry.
    public var defaultCheckoutLifetime: TimeInterval = 600

    public init() {}

    public static let variables: [ConfigurationVariable] = [
        .init("GATEWAY_HOST", default: "127.0.0.1", "address the HTTP server listens on"),
        .init("GATEWAY_PORT", default: "8080", "port of the HTTP server"),
        .init("GATEWAY_DATABASE", default: "./var/gateway.sqlite", "SQLite file (created with its folder)"),
        .init("AMQP_URL", default: "amqp://guest:guest@127.0.0.1:5672/", "RabbitMQ the outbox relay publishes to", secret: true),
        .init("FINTOC_API_URL", default: "http://127.0.0.1:8090", "Fintoc's API base URL (https://api.fintoc.com in production; the local sandbox by default)"),
        .init("FINTOC_SECRET_KEY", default: "sk_test_sandbox", "Fintoc secret key (sk_test_… or sk_live_…)", secret: true),
        .init("FINTOC_PUBLIC_KEY", default: "pk_test_sandbox", "Fintoc public key, handed to widget checkouts"),
        .init("FINTOC_API_VERSION", default: "", "Fintoc-Version header to pin (e.g. 2026-02-01)"),
        .init("FINTOC_TIMEOUT", default: "15", "seconds one Fintoc request may take"),
        .init("FINTOC_RECIPIENT_ACCOUNT", default: "", "holder_id:number:type:institution_id of the account direct payment intents pay into"),
        .init("STOREFRONT_API_KEYS", default: "", "storefront keys as name:key,name:key (more with `api-keys create`)", secret: true),
        .init("GATEWAY_MAX_BODY_BYTES", default: "65536", "largest storefront request body"),
    ]

    /// Reads and checks every variable; the first unusable one is the error.
    public static func fromEnvironment(_ environment: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError) -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        configuration.host = environment.string("GATEWAY_HOST", default: configuration.host)
        configuration.port = try environment.port("GATEWAY_PORT", default: configuration.port)
        configuration.databasePath = environment.string("GATEWAY_DATABASE", default: configuration.databasePath)
        configuration.amqpURL = try environment.url("AMQP_URL", default: configuration.amqpURL, schemes: ["amqp", "amqps"], secret: true)
        let secretKey = environment.string("FINTOC_SECRET_KEY", default: "sk_test_sandbox")
        guard secretKey.hasPrefix("sk_") else {
            throw ConfigurationError("FINTOC_SECRET_KEY", "must be a secret key (sk_test_… or sk_live_…)")
        }
        configuration.fintoc = FintocClientConfiguration(
            baseURL: try environment.url("FINTOC_API_URL", default: configuration.fintoc.baseURL, schemes: ["http", "https"]),
            secretKey: secretKey,
            apiVersion: environment.optionalString("FINTOC_API_VERSION"),
            requestTimeout: .milliseconds(Int64(try environment.seconds("FINTOC_TIMEOUT", default: 15, in: 0.1...300) * 1000))
        )
        configuration.fintocPublicKey = environment.string("FINTOC_PUBLIC_KEY", default: configuration.fintocPublicKey)
        guard configuration.fintocPublicKey.hasPrefix("pk_") else {
            throw ConfigurationError("FINTOC_PUBLIC_KEY", "must be a public key (pk_test_… or pk_live_…)")
        }
        if let account = environment.optionalString("FINTOC_RECIPIENT_ACCOUNT") {
            let parts = account.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty }) else {
                throw ConfigurationError("FINTOC_RECIPIENT_ACCOUNT", "must be holder_id:number:type:institution_id")
            }
            configuration.fintocRecipientAccount = BankAccount(holderID: parts[0], number: parts[1], type: parts[2], institutionID: parts[3])
        }
        for entry in environment.list("STOREFRONT_API_KEYS") {
            guard let colon = entry.firstIndex(of: ":"), !entry[..<colon].isEmpty, entry[entry.index(after: colon)...].count >= 16 else {
                throw ConfigurationError("STOREFRONT_API_KEYS", "each entry must be name:key with a key of 16 characters or more")
            }
            configuration.storefrontKeys.append((String(entry[..<colon]), String(entry[entry.index(after: colon)...])))
        }
        configuration.maxBodyBytes = try environment.integer("GATEWAY_MAX_BODY_BYTES", default: configuration.maxBodyBytes, in: 1024...(16 << 20))
        return configuration
    }
}
