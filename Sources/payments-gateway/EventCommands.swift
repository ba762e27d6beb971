import ArgumentParser
import Foundation
import Gateway
import Logging
import PaymentsCore

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect stored domain events and publish them again.",
        subcommands: [List.self, Replay.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An order's domain events (outbox) and the Fintoc events behind them (inbox), oldest first."
        )

        @Option(help: "The order id.")
        var order: String

        @Option(help: "The order's storefront; needed when several storefronts have an order with this id.")
        var storefront: String?

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let log = EventLog(store: try await openStore())
            let history: EventLog.OrderHistory
            do {
                history = try await log.history(order: .init(storefront: storefront, id: order))
            } catch let error as EventLog.LookupError {
                FileHandle.standardError.write(Data("payments-gateway: \(error)\n".utf8))
                throw ExitCode(1)
            }
            if json {
                let encoder = Timestamp.jsonEncoder()
                encoder.outputFormatting.insert(.prettyPrinted)
                print(String(decoding: try encoder.encode(history), as: UTF8.self))
                return
            }
            print("Domain events of order \(history.orderID) of storefront \(history.storefront):")
            print("  " + "SEQ".padded(8) + "TYPE".padded(26) + "CREATED".padded(26) + "PUBLISHED".padded(26) + "ID")
            for event in history.domainEvents {
                print(
                    "  " + "\(event.sequence)".padded(8) + event.type.padded(26) + Timestamp.format(event.createdAt).padded(26)
                        + (event.publishedAt.map(Timestamp.format) ?? "waiting").padded(26) + event.id)
            }
            print("Fintoc events:")
            print("  " + "RECEIVED".padded(26) + "TYPE".padded(34) + "SOURCE".padded(16) + "OUTCOME".padded(15) + "ID")
            for event in history.fintocEvents {
                print(
                    "  " + Timestamp.format(event.receivedAt).padded(26) + event.type.padded(34) + event.source.padded(16)
                        + event.outcome.padded(15) + event.id + (event.detail.map { "  (\($0))" } ?? ""))
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish stored domain events again, with their original ids, for a consumer that lost data.",
            discussion: """
                Events go to payments.events in their original order with the same message ids and
                bodies, so consumers that already have them drop them by id. The outbox is not
                changed. Give --order, --since, or both.
                """
        )

        @Option(help: "Only this order's events.")
        var order: String?

        @Option(help: "The order's storefront; needed with --order when several storefronts have an order with that id.")
        var storefront: String?

        @Option(help: "Only events written at or after this time (RFC 3339, e.g. 2026-11-21T09:00:00Z).")
        var since: String?

        @Flag(help: "List what would be published, publish nothing.")
        var dryRun = false

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            guard order != nil || since != nil else { throw ValidationError("give --order ID, --since TIME, or both") }
            if storefront != nil, order == nil { throw ValidationError("--storefront names the storefront of --order; give --order too") }
            if let since, Timestamp.parse(since) == nil {
                throw ValidationError("--since must be an RFC 3339 time, e.g. 2026-11-21T09:00:00Z")
            }
        }

        func run() async throws {
            do {
                try await replay()
            } catch let error as EventLog.LookupError {
                FileHandle.standardError.write(Data("payments-gateway: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }

        private func replay() async throws {
            let configuration = try loadConfiguration()
            let log = EventLog(store: try await openStore(configuration))
            let sinceDate = since.flatMap(Timestamp.parse)
            let order = self.order.map { EventLog.OrderName(storefront: storefront, id: $0) }
            if dryRun {
                let selected = try await log.selection(order: order, since: sinceDate)
                if json {
                    print(String(decoding: try Timestamp.jsonEncoder().encode(selected), as: UTF8.self))
                } else {
                    for event in selected { print(event.id) }
                    print("\(selected.count) event(s) would be published")
                }
                return
            }
            var logger = Logger(label: "payments-gateway")
            logger.logLevel = .warning
            let report = try await log.replay(order: order, since: sinceDate, amqpURL: configuration.amqpURL, logger: logger)
            if json {
                print(String(decoding: try JSONEncoder().encode(report), as: UTF8.self))
            } else {
                print("selected:  \(report.selected)\npublished: \(report.published)\nfailed:    \(report.failed)")
                for failure in report.failures { print("  \(failure)") }
            }
            if report.failed > 0 { throw ExitCode(1) }
        }
    }
}

struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-read from Fintoc the checkouts webhooks left open or in doubt, now.",
        discussion: """
            The running gateway does this every GATEWAY_RECONCILE_INTERVAL seconds. What changed is
            written as events marked `reconciliation`; the running gateway's relay publishes them.
            """
    )

    @Flag(help: "Run one pass now (required: the command does nothing else).")
    var now = false

    @Flag(help: "Re-read every checkout not yet final, not only those due.")
    var all = false

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard now else { throw ValidationError("pass --now to run a reconciliation pass") }
    }

    func run() async throws {
        let configuration = try loadConfiguration()
        var logger = Logger(label: "payments-gateway")
        logger.logLevel = .warning
        let report = try await ReconcileNow.run(configuration: configuration, everythingOpen: all, logger: logger)
        if json {
            print(String(decoding: try JSONEncoder().encode(report), as: UTF8.self))
        } else {
            print(
                "examined:  \(report.examined)\nchanged:   \(report.changed)\nunchanged: \(report.unchanged)\nfailed:    \(report.failed)\nevents:    \(report.events)"
            )
        }
        if report.failed > 0 { throw ExitCode(1) }
    }
}
