import Foundation
import ServiceRuntime
import Testing

/// Issue 14, part 5: for a secret variable X, X_FILE names a file holding its value (Docker and
/// Kubernetes secrets), so no secret needs to be in any process's arguments.
@Suite struct SecretFileTests {
    static let variables = [
        ConfigurationVariable("API_KEY", default: "", "a key", secret: true),
        ConfigurationVariable("PLAIN", default: "", "not a secret"),
    ]

    /// A fresh file holding `contents`.
    static func file(_ contents: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-secret-\(UUID().uuidString)")
        try Data(contents.utf8).write(to: url)
        return url.path
    }

    @Test func theFileIsTheValueLessOneTrailingNewline() throws {
        for (contents, value) in [("sk_file\n", "sk_file"), ("sk_file", "sk_file"), ("sk_file\r\n", "sk_file"), ("a b\nc\n\n", "a b\nc\n")]
        {
            let path = try Self.file(contents)
            let reader = try EnvironmentReader(["API_KEY_FILE": path]).resolvingSecretFiles(for: Self.variables)
            #expect(reader.values["API_KEY"] == value, "\(contents.debugDescription)")
        }
    }

    @Test func withoutAFileTheVariableStandsAndPlainVariablesHaveNoFile() throws {
        let path = try Self.file("from-file\n")
        let reader = try EnvironmentReader(["API_KEY": "from-env", "PLAIN_FILE": path]).resolvingSecretFiles(for: Self.variables)
        #expect(reader.optionalString("API_KEY") == "from-env")
        #expect(reader.optionalString("PLAIN") == nil)
    }

    @Test func bothSetAMissingAnEmptyOrAHugeFileIsAnErrorNamingTheFileVariable() throws {
        let path = try Self.file("secret-value-123\n")
        let cases: [([String: String], String)] = [
            (["API_KEY": "secret-value-123", "API_KEY_FILE": path], "API_KEY_FILE: set either API_KEY or API_KEY_FILE, not both"),
            (["API_KEY_FILE": "/nonexistent/cobro/key"], "API_KEY_FILE: cannot read \"/nonexistent/cobro/key\": no such file"),
            (["API_KEY_FILE": try Self.file("\n")], "is empty"),
            (["API_KEY_FILE": FileManager.default.temporaryDirectory.path], "API_KEY_FILE: cannot read"),
            (["API_KEY_FILE": try Self.file(String(repeating: "k", count: EnvironmentReader.maxSecretFileBytes + 1))], "is larger than"),
        ]
        for (values, message) in cases {
            #expect {
                _ = try EnvironmentReader(values).resolvingSecretFiles(for: Self.variables)
            } throws: { error in
                let text = "\(error)"
                return text.contains(message) && !text.contains("secret-value-123")
            }
        }
    }

    @Test func helpNamesTheFileVariableOfEachSecret() {
        let help = ConfigurationVariable.helpText(Self.variables)
        #expect(help.contains("API_KEY_FILE"))
        #expect(!help.contains("PLAIN_FILE"))
        #expect(ConfigurationVariable.secretsHelp.contains("X_FILE"))
    }
}
