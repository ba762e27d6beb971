// swift-tools-version:6.1
import PackageDescription

// Layout and dependency rules: docs/architecture.md ("Layout").
// PaymentsCore depends on Foundation only; AMQP knows nothing of payments; Fintoc knows nothing
// of our orders; the service libraries build on them and never import each other.
let package = Package(
    name: "Cobro",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PaymentsCore", targets: ["PaymentsCore"]),
        .library(name: "AMQP", targets: ["AMQP"]),
        .library(name: "Fintoc", targets: ["Fintoc"]),
        .library(name: "ServiceRuntime", targets: ["ServiceRuntime"]),
        .library(name: "Gateway", targets: ["Gateway"]),
        .library(name: "FintocSandbox", targets: ["FintocSandbox"]),
        .executable(name: "fintoc-sandbox", targets: ["fintoc-sandbox"]),
        .executable(name: "payments-gateway", targets: ["payments-gateway"]),
        .library(name: "Fulfillment", targets: ["Fulfillment"]),
        .executable(name: "fulfillment-worker", targets: ["fulfillment-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // NIOHTTPTypes: the request parts Hummingbird's channel handlers see (HTTPServerLimits).
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV.git", from: "0.10.0"),
        // PostgreSQL, the store engine for more than one replica (issue 16).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // TLS settings for PostgreSQL connections (sslmode, sslrootcert).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        .target(name: "PaymentsCore"),
        .testTarget(
            name: "PaymentsCoreTests",
            dependencies: ["PaymentsCore", "CobroTestSupport"]
        ),
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(
            name: "AMQP",
            dependencies: ["CRabbitMQ", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "AMQPTests",
            dependencies: ["AMQP", "CobroTestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        // Slow clients and connection floods, for every HTTP listener (issue 14): a deadline
        // for a request's head and body, the idle timeout, a connection cap with its metrics.
        .target(
            name: "HTTPServerLimits",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // What every service shares and none of them owns: configuration from the environment,
        // logging bootstrap, the background-service loop, the broker link, health routes.
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "AMQP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ServiceRuntimeTests",
            dependencies: [
                "ServiceRuntime",
                "AMQP",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What both stores share on PostgreSQL: the database URL, the client's pool running for
        // the store's lifetime, migrations taken once across replicas, readable server errors.
        .target(
            name: "PostgresSupport",
            dependencies: [
                "ServiceRuntime",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Fintoc",
            dependencies: [
                "PaymentsCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "FintocTests",
            dependencies: ["Fintoc", "PaymentsCore", "CobroTestSupport"]
        ),
        .target(
            name: "FintocSandbox",
            dependencies: [
                "ServiceRuntime",
                "Fintoc",
                "HTTPServerLimits",
                "PaymentsCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "fintoc-sandbox",
            dependencies: [
                "ServiceRuntime",
                "FintocSandbox",
                "Fintoc",
                "PaymentsCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "FintocSandboxTests",
            dependencies: [
                "ServiceRuntime",
                "FintocSandbox",
                "HTTPServerLimits",
                "Fintoc",
                "PaymentsCore",
                "CobroTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            exclude: ["Python"]
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "ServiceRuntime",
                "PaymentsCore",
                "HTTPServerLimits",
                "Fintoc",
                "AMQP",
                "PostgresSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "payments-gateway",
            dependencies: [
                "ServiceRuntime",
                "Gateway",
                "PaymentsCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Fixtures shared by the test targets that need a broker (virtual hosts, broker restarts).
        .target(
            name: "CobroTestSupport",
            dependencies: [
                "AMQP",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Tests/CobroTestSupport"
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "ServiceRuntime",
                "Gateway",
                "Fintoc",
                "AMQP",
                "CobroTestSupport",
                "PostgresSupport",
                // The sandbox stands in for Fintoc in the gateway's tests, as in the local stack.
                "FintocSandbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // The fulfilment worker (issue 7): inventory, notifications and the mailer.
        // libcurl speaks SMTP (STARTTLS, SMTPS, AUTH); its setopt calls are variadic, so one C
        // function wraps a whole send.
        .target(
            name: "CCurlSMTP",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .target(
            name: "Fulfillment",
            dependencies: [
                "ServiceRuntime",
                "PaymentsCore",
                "HTTPServerLimits",
                "AMQP",
                "CCurlSMTP",
                "PostgresSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
            ]
        ),
        .executableTarget(
            name: "fulfillment-worker",
            dependencies: [
                "ServiceRuntime",
                "Fulfillment",
                "PaymentsCore",
                "AMQP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "FulfillmentTests",
            dependencies: [
                "ServiceRuntime",
                "Fulfillment",
                "HTTPServerLimits",
                "PaymentsCore",
                "AMQP",
                "CobroTestSupport",
                "PostgresSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Python"]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "CobroTestSupport",
                "AMQP",
                "PaymentsCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The HA drill: a fan-out in front of the gateways, and both PostgreSQL databases read.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "cobro-bench",
            dependencies: [
                "ServiceRuntime",
                "AMQP",
                "Fintoc",
                "PaymentsCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
