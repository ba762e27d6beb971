// swift-tools-version:6.1
import PackageDescription

// Layout and dependency rules: ../shared/DESIGN.md ("Layout").
// PaymentsCore depends on Foundation only; the service libraries build on it.
let package = Package(
    name: "Cobro",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PaymentsCore", targets: ["PaymentsCore"]),
    ],
    targets: [
        .target(name: "PaymentsCore"),
        .testTarget(
            name: "PaymentsCoreTests",
            dependencies: ["PaymentsCore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
