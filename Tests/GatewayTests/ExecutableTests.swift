import CobroTestSupport
import Foundation
import Gateway
import PostgresSupport
import Testing

/// The `payments-gateway` executable as an operator runs it.
@Suite("payments-gateway executable")
struct GatewayExecutableTests {
    static func run(_ arguments: [String], _ environment: [String: String] = [:]) async throws -> ExecutableRunner.Run {
        try await ExecutableRunner.run("payments-gateway", arguments, environment: environment)
    }

    static func database() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cobro-cli-\(UUID().uuidString)/gateway.sqlite").path
    }

    @Test("--help lists every variable with its default")
    func help() async throws {
        let help = try await Self.run(["--help"])
        #expect(help.status == 0)
        for variable in GatewayConfiguration.variables {
            #expect(help.output.contains("\(variable.name) (default: "), "\(variable.name) missing from --help")
        }
        #expect(help.output.contains("LOG_LEVEL"))
        for command in ["serve", "api-keys", "outbox", "events", "reconcile"] { #expect(help.output.contains(command)) }
    }

    @Test(
        "an unusable variable stops it with exit status 78, naming the variable and never a secret",
        arguments: [
            ("GATEWAY_PORT", "99999", "GATEWAY_PORT: must be between 0 and 65535, not 99999"),
            ("AMQP_URL", "http://user:hunter2@host/", "AMQP_URL: the value must be a URL with a host and the scheme amqp or amqps"),
            ("FINTOC_SECRET_KEY", "pk_test_x", "FINTOC_SECRET_KEY: must be a secret key"),
            ("FINTOC_RECIPIENT_ACCOUNT", "1:2:3", "FINTOC_RECIPIENT_ACCOUNT: must be holder_id:number:type:institution_id"),
            ("STOREFRONT_API_KEYS", "shop:short", "STOREFRONT_API_KEYS: each entry must be name:key"),
            ("LOG_LEVEL", "loud", "LOG_LEVEL: \"loud\" is not a log level"),
            ("FINTOC_WEBHOOK_SECRETS", "short", "FINTOC_WEBHOOK_SECRETS: each secret must be 8 to 256 characters"),
            ("FINTOC_WEBHOOK_TOLERANCE", "0", "FINTOC_WEBHOOK_TOLERANCE: must be between"),
            ("GATEWAY_RECONCILE_INTERVAL", "-1", "GATEWAY_RECONCILE_INTERVAL: must be between"),
        ])
    func badConfiguration(variable: String, value: String, message: String) async throws {
        let run = try await Self.run(["serve"], [variable: value, "GATEWAY_DATABASE": Self.database()])
        #expect(run.status == 78)
        #expect(run.output.contains(message), "\(run.output)")
        #expect(!run.output.contains("hunter2"))
    }

    @Test("a live Fintoc key with the sandbox's public webhook secret is refused at start")
    func liveKeyNeedsItsOwnWebhookSecret() async throws {
        let run = try await Self.run(
            ["serve"],
            [
                "FINTOC_SECRET_KEY": "sk_live_abcdefghijklmnop", "FINTOC_PUBLIC_KEY": "pk_live_abcdefghijklmnop",
                "GATEWAY_DATABASE": Self.database(),
            ])
        #expect(run.status == 78)
        #expect(run.output.contains("FINTOC_WEBHOOK_SECRETS: must be set to the live endpoint's secret"), "\(run.output)")
        #expect(!run.output.contains("sk_live_abcdefghijklmnop"))
    }

    @Test("api-keys create, list and revoke; the key works until revoked", arguments: StoreEngine.available)
    func apiKeys(_ engine: StoreEngine) async throws {
        let database = try await GatewayFixture.databaseSetting(engine)
        let environment = ["GATEWAY_DATABASE_URL": database]
        let created = try await Self.run(["api-keys", "create", "shop-cli", "--json"], environment)
        #expect(created.status == 0)
        let made = try JSONDecoder().decode([String: String].self, from: Data(created.output.utf8))
        let id = try #require(made["id"])
        let key = try #require(made["key"])
        #expect(key.hasPrefix("cbk_") && key.count == 44)
        let keys = StorefrontKeys(store: try await GatewayStore.openForTest(DatabaseLocation(parsing: database)), refreshInterval: .zero)
        #expect(try await keys.authenticate(key)?.name == "shop-cli")

        let listed = try await Self.run(["api-keys", "list"], environment)
        #expect(listed.status == 0 && listed.output.contains(id) && listed.output.contains("active"))
        #expect(!listed.output.contains(key), "list never shows a key")

        #expect(try await Self.run(["api-keys", "revoke", id], environment).status == 0)
        #expect(try await keys.authenticate(key) == nil)
        let again = try await Self.run(["api-keys", "revoke", id], environment)
        #expect(again.status == 1 && again.output.contains("no active key with id \(id)"))
        #expect(try await Self.run(["api-keys", "create", "bad name"], environment).status != 0)
    }

    @Test("outbox status reads the database", arguments: StoreEngine.available)
    func outboxStatus(_ engine: StoreEngine) async throws {
        let run = try await Self.run(
            ["outbox", "status", "--json"], ["GATEWAY_DATABASE_URL": try await GatewayFixture.databaseSetting(engine)])
        #expect(run.status == 0)
        let status = try JSONDecoder().decode(OutboxStatus.self, from: Data(run.output.utf8))
        #expect(status.depth == 0 && status.publishedTotal == 0)
    }

    @Test("a PostgreSQL server that does not answer stops a command at once, naming the server and never the password")
    func unreachableDatabase() async throws {
        let refusing = try RefusingPort()
        defer { refusing.release() }
        let url = "postgres://cobro:hunter2@127.0.0.1:\(refusing.port)/cobro?sslmode=disable"
        let run = try await Self.run(["outbox", "status"], ["GATEWAY_DATABASE_URL": url])
        #expect(run.status != 0)
        #expect(run.output.contains("cannot connect to postgres://cobro:***@127.0.0.1:\(refusing.port)/cobro"), "\(run.output)")
        #expect(!run.output.contains("hunter2"))
        let both = try await Self.run(["outbox", "status"], ["GATEWAY_DATABASE_URL": url, "GATEWAY_DATABASE": Self.database()])
        #expect(both.status == 78, "\(both.output)")
        #expect(both.output.contains("GATEWAY_DATABASE"), "\(both.output)")
    }
}
