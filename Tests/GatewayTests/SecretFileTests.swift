import CobroTestSupport
import Foundation
import Gateway
import PaymentsCore
import PostgresSupport
import ServiceRuntime
import Testing

/// The gateway's secrets from files (`X_FILE`), as Docker and Kubernetes mount them.
@Suite("payments-gateway secrets from files")
struct GatewaySecretFileTests {
    static func file(_ contents: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-gateway-secret-\(UUID().uuidString)")
        try Data(contents.utf8).write(to: url)
        return url.path
    }

    @Test("every secret variable may come from its _FILE")
    func everySecretFromAFile() throws {
        let configuration = try GatewayConfiguration.fromEnvironment(
            EnvironmentReader([
                "AMQP_URL_FILE": try Self.file("amqp://gateway:s3cr3t-amqp@broker.internal:5672/cobro\n"),
                "FINTOC_SECRET_KEY_FILE": try Self.file("sk_test_from_a_file_0001\n"),
                "STOREFRONT_API_KEYS_FILE": try Self.file("shop:cbk_file_storefront_key_01,other:cbk_file_storefront_key_02\n"),
                "FINTOC_WEBHOOK_SECRETS_FILE": try Self.file("whsec_from_a_file_0001\n"),
                "GATEWAY_DATABASE_URL_FILE": try Self.file("postgres://gateway:s3cr3t-db@db.internal:5432/cobro\n"),
            ]))
        #expect(configuration.amqpURL == "amqp://gateway:s3cr3t-amqp@broker.internal:5672/cobro")
        #expect(configuration.fintoc.secretKey == "sk_test_from_a_file_0001")
        #expect(configuration.storefrontKeys.map(\.key) == ["cbk_file_storefront_key_01", "cbk_file_storefront_key_02"])
        #expect(configuration.webhookSecrets == ["whsec_from_a_file_0001"])
        #expect(configuration.database == (try DatabaseLocation(parsing: "postgres://gateway:s3cr3t-db@db.internal:5432/cobro")))
        #expect(!"\(configuration.database)".contains("s3cr3t-db"), "the password never shows")
        #expect(
            GatewayConfiguration.variables.filter(\.isSecret).map(\.name).sorted() == [
                "AMQP_URL", "FINTOC_SECRET_KEY", "FINTOC_WEBHOOK_SECRETS", "GATEWAY_DATABASE_URL", "STOREFRONT_API_KEYS",
            ])
    }

    @Test("--help says where secrets come from")
    func help() async throws {
        let help = try await ExecutableRunner.run("payments-gateway", ["--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("FINTOC_SECRET_KEY_FILE"))
        #expect(help.output.contains("never from the command line"))
    }

    @Test("a secret file that cannot be used stops it with 78, naming the _FILE variable and never the value")
    func badFiles() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-cli-\(UUID().uuidString)/gateway.sqlite").path
        let key = try Self.file("pk_test_not_secret_0001\n")
        let cases: [([String: String], String)] = [
            // Read, then checked like the variable itself.
            (["FINTOC_SECRET_KEY_FILE": key], "FINTOC_SECRET_KEY: must be a secret key"),
            (
                ["FINTOC_SECRET_KEY_FILE": key, "FINTOC_SECRET_KEY": "sk_test_both_0001"],
                "FINTOC_SECRET_KEY_FILE: set either FINTOC_SECRET_KEY or FINTOC_SECRET_KEY_FILE, not both"
            ),
            (
                ["STOREFRONT_API_KEYS_FILE": "/nonexistent/cobro/keys"],
                "STOREFRONT_API_KEYS_FILE: cannot read \"/nonexistent/cobro/keys\": no such file"
            ),
        ]
        for (environment, message) in cases {
            let run = try await ExecutableRunner.run(
                "payments-gateway", ["serve"], environment: environment.merging(["GATEWAY_DATABASE": database]) { $1 })
            #expect(run.status == 78, "\(run.output)")
            #expect(run.output.contains(message), "\(run.output)")
            #expect(!run.output.contains("sk_test_both_0001") && !run.output.contains("pk_test_not_secret_0001"))
        }
    }
}
