import AMQP
import ArgumentParser
import Foundation
import Fulfillment
import Logging
import PaymentsCore

struct Inventory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load, show and correct stock (in WORKER_DATABASE).",
        subcommands: [Import.self, Show.self, SetOnHand.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update products from a CSV file with the columns sku, name, on_hand; all rows or none."
        )

        @Argument(help: "The CSV file (UTF-8, a header row first).")
        var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)", status: 66) }
            guard let text = String(data: data, encoding: .utf8) else { fail("\(file) is not UTF-8 text", status: 65) }
            let rows: [InventoryRow]
            do {
                rows = try InventoryCSV.parse(text)
            } catch {
                fail("\(file) was not imported; nothing changed:\n\(error.problems.map { "  \($0)" }.joined(separator: "\n"))", status: 65)
            }
            let store = try await openStore()
            try await store.importInventory(rows)
            print("imported \(rows.count) product\(rows.count == 1 ? "" : "s") from \(file)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stock per product: on hand, held by open checkouts, available.")

        @Argument(help: "Only this SKU.")
        var sku: String?

        @Flag(help: "Print JSON: one object per product with sku, name, on_hand, held, available.")
        var json = false

        func run() async throws {
            let store = try await openStore()
            let levels = try await store.stockLevels(sku: sku)
            if let sku, levels.isEmpty { fail("no product with SKU \(sku)", status: 1) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(levels), as: UTF8.self))
                return
            }
            print("SKU".padded(24) + "NAME".padded(32) + "ON HAND".leftPadded(10) + "HELD".leftPadded(10) + "AVAILABLE".leftPadded(11))
            for level in levels {
                print(
                    level.sku.padded(24) + level.name.padded(32) + "\(level.onHand)".leftPadded(10) + "\(level.held)".leftPadded(10)
                        + "\(level.available)".leftPadded(11))
            }
        }
    }

    struct SetOnHand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Set the units on hand of an existing product (after a count, say).")

        @Argument(help: "The product's SKU.")
        var sku: String

        @Argument(help: "Units on hand, 0 or more.")
        var onHand: Int64

        func validate() throws {
            guard (0...InventoryCSV.maxOnHand).contains(onHand) else {
                throw ArgumentParser.ValidationError("on-hand must be between 0 and \(InventoryCSV.maxOnHand)")
            }
        }

        func run() async throws {
            let store = try await openStore()
            let found = try await store.setOnHand(sku: sku, to: onHand)
            guard found else { fail("no product with SKU \(sku); add it with inventory import", status: 1) }
            print("\(sku): on hand \(onHand)")
        }
    }
}

/// The store the configuration names (WORKER_DATABASE_URL or WORKER_DATABASE), migrated.
/// Quiet below warnings: the commands' own output (`inventory show --json`) is on stdout.
func openStore() async throws -> FulfillmentStore {
    let configuration = try loadConfiguration()
    var logger = Logger(label: "fulfillment-worker")
    logger.logLevel = .warning
    return try await FulfillmentStore.open(
        configuration.database, busyTimeout: configuration.databaseBusyTimeout, maximumConnections: 2, logger: logger)
}

struct DLQ: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect and redrive messages parked in fulfillment.payments.dlq.",
        subcommands: [List.self, Redrive.self]
    )

    static func deadLetters() async throws -> (DeadLetters, AMQPConnection) {
        let configuration = try loadConfiguration()
        let connection: AMQPConnection
        do {
            connection = try await AMQPConnection.connect(
                Worker.amqpConfiguration(url: configuration.amqpURL, connectionName: "fulfillment-worker-dlq"))
        } catch {
            fail("cannot reach the broker: \(error)", status: 69)
        }
        return (DeadLetters(connection: connection), connection)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List parked messages (they stay parked).")

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let (deadLetters, connection) = try await DLQ.deadLetters()
            let parked = try await deadLetters.list()
            await connection.close()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(parked), as: UTF8.self))
                return
            }
            print("\(parked.count) parked message\(parked.count == 1 ? "" : "s")")
            for message in parked {
                print(
                    "- id: \(message.id)\n  type: \(message.type ?? "-")  order: \(message.storefront.map { "\($0)/" } ?? "")\(message.orderID ?? "-")  routing key: \(message.routingKey)"
                )
                print(
                    "  parked at: \(message.parkedAt ?? "-")  retries: \(message.retries)  bytes: \(message.bytes)\n  reason: \(message.reason)"
                )
            }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send parked messages back to fulfillment.payments once the cause is fixed.")

        @Flag(help: "Redrive every parked message.")
        var all = false

        @Option(help: "Redrive only the message with this id (from dlq list).")
        var id: String?

        func validate() throws {
            guard all != (id != nil) else { throw ArgumentParser.ValidationError("give exactly one of --all or --id ID") }
        }

        func run() async throws {
            let (deadLetters, connection) = try await DLQ.deadLetters()
            let redriven = try await deadLetters.redrive(id: id)
            await connection.close()
            if let id, redriven.isEmpty { fail("no parked message with id \(id)", status: 1) }
            print("redriven \(redriven.count) message\(redriven.count == 1 ? "" : "s")")
            for id in redriven { print("- \(id)") }
        }
    }
}

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }

    func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
