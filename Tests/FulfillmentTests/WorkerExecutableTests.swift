import CobroTestSupport
import Foundation
import Fulfillment
import Testing

/// The `fulfillment-worker` executable as an operator runs it: help, configuration errors and
/// the inventory commands.
@Suite("fulfillment-worker executable")
struct WorkerExecutableTests {
    static func run(_ arguments: [String], _ environment: [String: String] = [:]) async throws -> ExecutableRunner.Run {
        try await ExecutableRunner.run("fulfillment-worker", arguments, environment: environment)
    }

    static func database() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cobro-worker-cli-\(UUID().uuidString)/fulfillment.sqlite").path
    }

    /// The environment naming a fresh database on `engine`, and what to drop after.
    static func environment(_ engine: StoreEngine) async throws -> (variables: [String: String], postgres: String?) {
        switch engine {
        case .sqlite:
            return (["WORKER_DATABASE": database()], nil)
        case .postgres:
            let (name, url) = try await PostgresFixture.makeDatabaseURL()
            return (["WORKER_DATABASE_URL": url], name)
        }
    }

    static func file(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("inventory-\(UUID().uuidString).csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("--help lists every variable with its default, and the commands")
    func help() async throws {
        let help = try await Self.run(["--help"])
        #expect(help.status == 0)
        for variable in WorkerConfiguration.variables {
            #expect(help.output.contains("\(variable.name) (default: "), "\(variable.name) missing from --help")
        }
        for command in ["serve", "inventory", "dlq"] { #expect(help.output.contains(command)) }
    }

    @Test(
        "an unusable variable stops it with exit status 78, naming the variable and never a secret",
        arguments: [
            ("WORKER_PORT", "70000", "WORKER_PORT: must be between 0 and 65535"),
            ("WORKER_PREFETCH", "0", "WORKER_PREFETCH: must be between 1 and 4096"),
            ("SMTP_URL", "http://user:hunter2@mail.example.com", "SMTP_URL: the value must be smtp://"),
            ("SMTP_URL", "smtp://user:hunter2@mail.example.com?starttls=maybe", "SMTP_URL: starttls must be"),
            ("MAIL_FROM", "not an address", "MAIL_FROM: \"not an address\" must be an address"),
            ("AMQP_URL", "http://guest:hunter2@host/", "AMQP_URL: the value must be a URL"),
            ("LOG_LEVEL", "loud", "LOG_LEVEL: \"loud\" is not a log level"),
        ])
    func badConfiguration(variable: String, value: String, message: String) async throws {
        let run = try await Self.run(["serve"], [variable: value, "WORKER_DATABASE": Self.database()])
        #expect(run.status == 78)
        #expect(run.output.contains(message), "\(run.output)")
        #expect(!run.output.contains("hunter2"))
    }

    @Test("inventory import reports every bad row with its line number and applies nothing", arguments: StoreEngine.available)
    func importErrors(engine: StoreEngine) async throws {
        let (environment, postgres) = try await Self.environment(engine)
        defer { if let postgres { Task { await PostgresFixture.dropDatabase(postgres) } } }
        let good = try Self.file("sku,name,on_hand\nA-1,Alpha,5\n")
        #expect(try await Self.run(["inventory", "import", good], environment).status == 0)
        let bad = try Self.file(
            """
            sku,name,on_hand
            A-1,Alpha renamed,50
            B 2,Beta,3
            C-3,,x
            D-4,Delta,-1
            A-1,Alpha again,1
            E-5,Echo,7,extra
            F-6,Foxtrot,9

            """)
        let run = try await Self.run(["inventory", "import", bad], environment)
        #expect(run.status == 65)
        for expected in [
            "nothing changed", "line 3: sku: must not contain spaces",
            "line 4: name: must not be empty; on_hand: \"x\" is not a whole number",
            "line 5: on_hand: must be between 0", "line 6: sku: A-1 already appears on line 2", "line 7: has more than 3 fields",
        ] {
            #expect(run.output.contains(expected), "\(expected) missing from \(run.output)")
        }
        #expect(!run.output.contains("line 2:") && !run.output.contains("line 8:"))
        let shown = try await Self.run(["inventory", "show", "--json"], environment)
        let levels = try JSONDecoder().decode([StockLevel].self, from: Data(shown.output.utf8))
        #expect(levels == [StockLevel(sku: "A-1", name: "Alpha", onHand: 5, held: 0, available: 5)], "nothing half-applied")

        let header = try await Self.run(["inventory", "import", try Self.file("code,qty\nA,1\n")], environment)
        #expect(header.status == 65 && header.output.contains("line 1: the header must name the columns sku, name and on_hand"))
        let missing = try await Self.run(["inventory", "import", "/nonexistent/file.csv"], environment)
        #expect(missing.status == 66 && missing.output.contains("cannot read /nonexistent/file.csv"))
    }

    @Test("inventory import, show (table, one SKU, JSON) and set", arguments: StoreEngine.available)
    func importShowSet(engine: StoreEngine) async throws {
        let (environment, postgres) = try await Self.environment(engine)
        defer { if let postgres { Task { await PostgresFixture.dropDatabase(postgres) } } }
        let csv = try Self.file("name,sku,on_hand\r\n\"Polera, talla M\",TSHIRT-M,12\r\nTazón,MUG-01,0\r\n")
        let imported = try await Self.run(["inventory", "import", csv], environment)
        #expect(imported.status == 0 && imported.output.contains("imported 2 products"), "\(imported.output)")
        let json = try await Self.run(["inventory", "show", "--json"], environment)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]])
        #expect(object.count == 2)
        #expect(Set(object[0].keys) == ["sku", "name", "on_hand", "held", "available"])
        #expect(
            object[1]["sku"] as? String == "TSHIRT-M" && object[1]["name"] as? String == "Polera, talla M"
                && object[1]["on_hand"] as? Int == 12)

        let set = try await Self.run(["inventory", "set", "MUG-01", "40"], environment)
        #expect(set.status == 0 && set.output.contains("MUG-01: on hand 40"))
        let one = try await Self.run(["inventory", "show", "MUG-01"], environment)
        #expect(one.status == 0 && one.output.contains("MUG-01") && one.output.contains("40") && !one.output.contains("TSHIRT-M"))
        #expect(try await Self.run(["inventory", "set", "NOPE", "1"], environment).status == 1)
        #expect(try await Self.run(["inventory", "set", "MUG-01", "-3"], environment).status != 0)
        let unknown = try await Self.run(["inventory", "show", "NOPE"], environment)
        #expect(unknown.status == 1 && unknown.output.contains("no product with SKU NOPE"))
    }

    @Test("a PostgreSQL server that does not answer stops a command with the reason, never the password")
    func unreachableDatabase() async throws {
        let refusing = try RefusingPort()
        defer { refusing.release() }
        let run = try await Self.run(
            ["inventory", "show"], ["WORKER_DATABASE_URL": "postgres://cobro:hunter2@127.0.0.1:\(refusing.port)/cobro?sslmode=disable"])
        #expect(run.status != 0)
        #expect(run.output.contains("cannot connect to postgres://cobro:***@127.0.0.1:\(refusing.port)/cobro"), "\(run.output)")
        #expect(!run.output.contains("hunter2"))
    }
}
