import ArgumentParser
import Foundation
import Gateway
import PaymentsCore

struct APIKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-keys",
        abstract: "Create, list and revoke storefront API keys (stored hashed in GATEWAY_DATABASE).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key for a storefront; the key is printed once and never stored.")

        @Argument(help: "The storefront's name, recorded on its orders.")
        var name: String

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            // The name goes into every event of the storefront's orders (and their ids).
            guard (try? StorefrontID(name)) != nil else {
                throw ValidationError("the name must be 1 to 64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit")
            }
        }

        func run() async throws {
            let keys = StorefrontKeys(store: try await openStore())
            let made = try await keys.create(name: name)
            if json {
                print(try jsonText(["id": made.id, "name": name, "key": made.secret]))
            } else {
                print("id:   \(made.id)\nname: \(name)\nkey:  \(made.secret)\n\nStore the key now: it is shown only this once.")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never the keys themselves), newest first.")

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let keys = try await StorefrontKeys(store: openStore()).list()
            if json {
                let encoder = Timestamp.jsonEncoder()
                encoder.outputFormatting.insert(.prettyPrinted)
                print(String(decoding: try encoder.encode(keys), as: UTF8.self))
                return
            }
            print("ID                    NAME                  PREFIX      SOURCE       CREATED                   STATE")
            for key in keys {
                let state = key.revokedAt.map { "revoked \(Timestamp.format($0))" } ?? "active"
                print(
                    [
                        key.id.padded(22), key.name.padded(22), key.prefix.padded(12), key.source.padded(13),
                        Timestamp.format(key.createdAt).padded(26), state,
                    ].joined())
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key by id; a running gateway stops accepting it within 5 seconds.")

        @Argument(help: "The key's id (key_…), from `api-keys list`.")
        var id: String

        func run() async throws {
            let keys = StorefrontKeys(store: try await openStore())
            guard try await keys.revoke(id: id) else {
                FileHandle.standardError.write(Data("payments-gateway: no active key with id \(id)\n".utf8))
                throw ExitCode(1)
            }
            print("revoked \(id)")
        }
    }
}

struct Outbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect the transactional outbox of domain events.",
        subcommands: [Status.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Events waiting for the broker, the oldest one's age, and what was published.")

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let status = try await OutboxStatus.read(openStore())
            if json {
                print(String(decoding: try Timestamp.jsonEncoder().encode(status), as: UTF8.self))
                return
            }
            print("waiting:         \(status.depth)")
            print("oldest waiting:  \(status.oldestAgeSeconds.map { String(format: "%.1f s", $0) } ?? "-")")
            print("published:       \(status.publishedTotal)")
            print("last published:  \(status.lastPublishedAt.map(Timestamp.format) ?? "-")")
        }
    }
}

func jsonText(_ object: [String: String]) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self)
}

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
