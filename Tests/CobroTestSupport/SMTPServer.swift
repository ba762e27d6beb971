import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real SMTP server (aiosmtpd, `Tests/FulfillmentTests/Python/smtp_server.py`) on a loopback port, storing what it
/// accepts as files, for the mail tests. Started and stopped by the test.
public final class SMTPServer: Sendable {
    public enum Mode: String, Sendable {
        case plain, starttls, smtps
    }

    public let port: Int
    public let directory: URL
    private let process: ChildProcess

    public static let script = BrokerFixture.repositoryRoot.appendingPathComponent("Tests/FulfillmentTests/Python/smtp_server.py")

    /// Starts the server on `port` and waits (bounded) until it listens.
    public init(port: Int, mode: Mode = .plain, tls: TLSFiles? = nil, user: String? = nil, password: String? = nil, directory: URL? = nil)
        async throws
    {
        self.port = port
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("cobro-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: self.directory.appendingPathComponent("ready"))
        var arguments = [Self.script.path, "--port", "\(port)", "--dir", self.directory.path, "--mode", mode.rawValue]
        if let tls { arguments += ["--cert", tls.certificate.path, "--key", tls.key.path] }
        // The password goes through the environment: arguments show in ps.
        var environment = ProcessInfo.processInfo.environment
        if let user, let password {
            arguments += ["--user", user]
            environment["SMTP_TEST_PASSWORD"] = password
        }
        // The checkout's private Python (scripts/deps builds it), where aiosmtpd is pinned.
        process = try ChildProcess(
            BrokerFixture.repositoryRoot.appendingPathComponent("scripts/python"), arguments, environment: environment,
            errors: self.directory.appendingPathComponent("server.log"))
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: self.directory.appendingPathComponent("ready").path) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                stop()
                throw StartFailed()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    public struct StartFailed: Error {}

    /// The messages received so far, as text, in arrival order.
    public func messages() -> [String] {
        let files = ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "eml" }.sorted { $0.path < $1.path }
        return files.compactMap { try? String(contentsOf: $0, encoding: .utf8) }
    }

    /// Recipients and envelope sender of message `index`.
    public func envelope(_ index: Int) -> String? {
        let files = ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "rcpt" }.sorted { $0.path < $1.path }
        return index < files.count ? try? String(contentsOf: files[index], encoding: .utf8) : nil
    }

    /// Stops the server (SIGTERM, then SIGKILL after two seconds), waiting a bounded time.
    public func stop() {
        guard process.isRunning else { return }
        process.signal(SIGTERM)
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.signal(SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// A self-signed certificate for 127.0.0.1 and its key, made with openssl for one test.
public struct TLSFiles: Sendable {
    public let certificate: URL
    public let key: URL

    public static func make() throws -> TLSFiles {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cobro-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = TLSFiles(certificate: directory.appendingPathComponent("cert.pem"), key: directory.appendingPathComponent("key.pem"))
        let openssl = try ChildProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", files.key.path, "-out", files.certificate.path,
            ])
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw SMTPServer.StartFailed() }
        return files
    }
}
