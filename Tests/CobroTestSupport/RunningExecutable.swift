import Foundation

/// One of the product's executables running in the background for a test that talks to it,
/// reads its log, and stops it (gracefully, or with SIGKILL as a crash would).
public final class RunningExecutable: Sendable {
    private let process: ChildProcess
    public let logFile: URL

    public var pid: Int32 { process.pid }
    public var isRunning: Bool { process.isRunning }

    public init(_ name: String, _ arguments: [String] = [], environment: [String: String] = [:]) throws {
        guard let executable = ExecutableRunner.executable(name) else { throw ExecutableRunner.NotBuilt(name: name) }
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).log")
        process = try ChildProcess(
            executable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, output: logFile)
    }

    /// Everything the process wrote so far (stdout and stderr).
    public var output: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Waits until the log has a line matching `predicate`, and returns it; nil on timeout or exit.
    public func waitForLine(timeout: Duration = .seconds(30), where predicate: (Substring) -> Bool) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = output.split(separator: "\n").first(where: predicate) { return String(line) }
            if !process.isRunning { return nil }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// The port a Hummingbird server logged it listens on (`… listening on 127.0.0.1:PORT`).
    /// `matching` picks one listener of several (the gateway logs its admin one with `listener=admin`).
    public func listeningPort(timeout: Duration = .seconds(30), matching: (Substring) -> Bool = { _ in true }) async throws -> Int? {
        guard
            let line = try await waitForLine(
                timeout: timeout, where: { ($0.contains("listening on") || $0.contains("Server started")) && matching($0) })
        else {
            return nil
        }
        let digits = line.reversed().drop { !$0.isNumber }.prefix { $0.isNumber }
        return Int(String(digits.reversed()))
    }

    /// Sends `signal` and waits (bounded) for the process to end; returns its exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(20)) async throws -> Int32 {
        process.signal(signal)
        if try await !process.wait(timeout: timeout) {
            process.signal(SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            process.signal(SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: logFile)
    }
}
