import CobroTestSupport
import Foundation
import Fulfillment
import PaymentsCore
import PostgresSupport
import ServiceRuntime
import Testing

/// The worker's secrets from files (`X_FILE`), as Docker and Kubernetes mount them.
@Suite("fulfillment-worker secrets from files")
struct WorkerSecretFileTests {
    static func file(_ contents: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-worker-secret-\(UUID().uuidString)")
        try Data(contents.utf8).write(to: url)
        return url.path
    }

    @Test("AMQP_URL, SMTP_URL and WORKER_DATABASE_URL may come from their _FILE")
    func fromFiles() throws {
        let configuration = try WorkerConfiguration.fromEnvironment(
            EnvironmentReader([
                "AMQP_URL_FILE": try Self.file("amqp://worker:s3cr3t-amqp@broker.internal:5672/cobro\n"),
                "SMTP_URL_FILE": try Self.file("smtps://mailer:s3cr3t-smtp@mail.example.com\n"),
                "WORKER_DATABASE_URL_FILE": try Self.file("postgres://worker:s3cr3t-pg@db.internal:5432/fulfillment\n"),
            ]))
        #expect(configuration.amqpURL == "amqp://worker:s3cr3t-amqp@broker.internal:5672/cobro")
        #expect(configuration.smtp?.password == "s3cr3t-smtp")
        guard case .postgres(let database) = configuration.database else {
            Issue.record("WORKER_DATABASE_URL_FILE was not read: \(configuration.database)")
            return
        }
        #expect(database.password == "s3cr3t-pg" && database.host == "db.internal")
        #expect(WorkerConfiguration.variables.filter(\.isSecret).map(\.name).sorted() == ["AMQP_URL", "SMTP_URL", "WORKER_DATABASE_URL"])
    }

    @Test("an unusable secret file stops it with 78, naming the _FILE variable and never the value")
    func badFiles() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cobro-worker-cli-\(UUID().uuidString)/fulfillment.sqlite"
        ).path
        let cases: [([String: String], String)] = [
            (["SMTP_URL_FILE": "/nonexistent/cobro/smtp"], "SMTP_URL_FILE: cannot read \"/nonexistent/cobro/smtp\": no such file"),
            (
                ["SMTP_URL_FILE": try Self.file("smtp://u:hunter2@mail.example.com\n"), "SMTP_URL": "smtp://u:hunter2@mail.example.com"],
                "SMTP_URL_FILE: set either SMTP_URL or SMTP_URL_FILE, not both"
            ),
            (["SMTP_URL_FILE": try Self.file("http://u:hunter2@mail.example.com\n")], "SMTP_URL: the value must be smtp://"),
        ]
        for (environment, message) in cases {
            let run = try await ExecutableRunner.run(
                "fulfillment-worker", ["serve"], environment: environment.merging(["WORKER_DATABASE": database]) { $1 })
            #expect(run.status == 78, "\(run.output)")
            #expect(run.output.contains(message), "\(run.output)")
            #expect(!run.output.contains("hunter2"))
        }
        let help = try await ExecutableRunner.run("fulfillment-worker", ["--help"])
        #expect(help.output.contains("SMTP_URL_FILE") && help.output.contains("never from the command line"))
    }
}
