import FintocSandbox
import Foundation
import PaymentsCore
import ServiceRuntime
import Testing

/// Environment parsing: documented defaults, and a precise message for every bad value.
@Suite struct ConfigurationTests {
    @Test func defaultsMakeTheLocalStackRun() throws {
        let configuration = try SandboxConfiguration(environment: [:])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8090)
        #expect(configuration.secretKey == "sk_test_sandbox")
        #expect(configuration.publicKey == "pk_test_sandbox")
        #expect(configuration.publicURL == "http://127.0.0.1:8090")
        #expect(configuration.bootstrapWebhook == nil)
        #expect(configuration.sessionLifetime == 86_400)
        #expect(configuration.tokenLifetime == 600)
        #expect(configuration.retrySchedule.count == 17)
        #expect(configuration.retrySchedule.first == 3)
        #expect(configuration.retrySchedule[1] == 6)
        #expect(configuration.webhookTimeout == 10)
        #expect(SandboxConfiguration.variables.count >= 11)
    }

    @Test func everyVariableIsRead() throws {
        let configuration = try SandboxConfiguration(environment: [
            "SANDBOX_HOST": "0.0.0.0", "SANDBOX_PORT": "9000", "SANDBOX_SECRET_KEY": "sk_test_x", "SANDBOX_PUBLIC_KEY": "pk_test_x",
            "SANDBOX_PUBLIC_URL": "http://sandbox.local:9000/", "SANDBOX_WEBHOOK_URL": "http://gateway:8080/webhooks/fintoc",
            "SANDBOX_WEBHOOK_SECRET": "whsec_x", "SANDBOX_SESSION_LIFETIME": "60", "SANDBOX_TOKEN_LIFETIME": "30",
            "SANDBOX_WEBHOOK_RETRY_SCHEDULE": "0.1, 0.2,1", "SANDBOX_WEBHOOK_TIMEOUT": "2.5",
        ])
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9000)
        #expect(configuration.publicURL == "http://sandbox.local:9000")
        #expect(configuration.bootstrapWebhook == .init(url: "http://gateway:8080/webhooks/fintoc", secret: "whsec_x"))
        #expect(configuration.sessionLifetime == 60)
        #expect(configuration.tokenLifetime == 30)
        #expect(configuration.retrySchedule == [0.1, 0.2, 1])
        #expect(configuration.webhookTimeout == 2.5)
    }

    @Test(arguments: [
        ("SANDBOX_PORT", "http", "SANDBOX_PORT"),
        ("SANDBOX_PORT", "70000", "SANDBOX_PORT"),
        ("SANDBOX_SECRET_KEY", "pk_test_x", "SANDBOX_SECRET_KEY"),
        ("SANDBOX_PUBLIC_KEY", "sk_test_x", "SANDBOX_PUBLIC_KEY"),
        ("SANDBOX_PUBLIC_URL", "ftp://x", "SANDBOX_PUBLIC_URL"),
        ("SANDBOX_SESSION_LIFETIME", "-1", "SANDBOX_SESSION_LIFETIME"),
        ("SANDBOX_TOKEN_LIFETIME", "ten", "SANDBOX_TOKEN_LIFETIME"),
        ("SANDBOX_WEBHOOK_RETRY_SCHEDULE", "3,x,12", "SANDBOX_WEBHOOK_RETRY_SCHEDULE"),
        ("SANDBOX_WEBHOOK_TIMEOUT", "0", "SANDBOX_WEBHOOK_TIMEOUT"),
        ("SANDBOX_WEBHOOK_TIMEOUT", "1e20", "SANDBOX_WEBHOOK_TIMEOUT"),
        ("SANDBOX_SWEEP_INTERVAL", "1e300", "SANDBOX_SWEEP_INTERVAL"),
        ("SANDBOX_WEBHOOK_RETRY_SCHEDULE", "3,1e20", "SANDBOX_WEBHOOK_RETRY_SCHEDULE"),
        ("SANDBOX_WEBHOOK_URL", "http://gateway/hook", "SANDBOX_WEBHOOK_SECRET"),
        ("SANDBOX_WEBHOOK_SECRET", "whsec_x", "SANDBOX_WEBHOOK_URL"),
    ])
    func badValuesAreRefusedNamingTheVariable(name: String, value: String, blamed: String) {
        #expect {
            try SandboxConfiguration(environment: [name: value])
        } throws: { error in
            (error as? ConfigurationError)?.variable == blamed
        }
    }
}
