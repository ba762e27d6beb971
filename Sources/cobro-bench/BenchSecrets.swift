import ArgumentParser
import PaymentsCore
import ServiceRuntime

/// The secrets a benchmark needs, from the environment or from the file `X_FILE` names, never
/// from its arguments: `ps` shows every process's arguments to every user of the machine.
enum BenchSecrets {
    static let storefrontKey = ConfigurationVariable(
        "COBRO_BENCH_STOREFRONT_KEY", default: "", "storefront key the gateway accepts (one of its STOREFRONT_API_KEYS)", secret: true)
    static let sandboxKey = ConfigurationVariable(
        "COBRO_BENCH_SANDBOX_KEY", default: "sk_test_sandbox", "secret key the sandbox accepts", secret: true)
    static let webhookSecret = ConfigurationVariable(
        "COBRO_BENCH_WEBHOOK_SECRET", default: "whsec_test_sandbox", "webhook signing secret the gateway accepts", secret: true)
    static let amqpURL = ConfigurationVariable(
        "AMQP_URL", default: "amqp://guest:guest@127.0.0.1:5672/", "the broker (its URL holds the password)", secret: true)

    /// For `--help`.
    static let help = """
        Secrets come from the environment, never from arguments:

        \(ConfigurationVariable.helpText([storefrontKey, sandboxKey, webhookSecret, amqpURL]))

        \(ConfigurationVariable.secretsHelp)
        """

    /// The variable's value (or its file's), else its default.
    static func value(_ variable: ConfigurationVariable) throws -> String {
        do {
            return try EnvironmentReader().resolvingSecretFiles(for: [variable]).string(variable.name, default: variable.defaultValue)
        } catch {
            throw ArgumentParser.ValidationError("\(error)")
        }
    }
}
