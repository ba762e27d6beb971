// swift-tools-version:6.1
import PackageDescription

// Layout and dependency rules: ../shared/DESIGN.md ("Layout").
// PaymentsCore depends on Foundation only; the service libraries build on it.
let package = Package(
    name: "Cobro",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PaymentsCore", targets: ["PaymentsCore"]),
        .library(name: "AMQP", targets: ["AMQP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .target(name: "PaymentsCore"),
        .testTarget(
            name: "PaymentsCoreTests",
            dependencies: ["PaymentsCore"]
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
            dependencies: ["AMQP", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "cobro-bench",
            dependencies: ["AMQP", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
