import Foundation

/// Runs one of the package's executables, built beside the test bundle by
/// `swift build --build-tests`, as an operator would: arguments, extra environment, output
/// captured, a bounded wait.
public enum ExecutableRunner {
    public struct Run: Sendable {
        public var status: Int32
        public var output: String
        /// The process outlived `timeout` and was terminated.
        public var timedOut = false
    }

    public struct NotBuilt: Error, CustomStringConvertible {
        public let name: String
        public var description: String { "\(name) was not built beside the tests; run swift build --build-tests" }
    }

    /// The executable `name` beside the test bundle.
    public static func executable(_ name: String) -> URL? {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// Runs `name` to completion (or `timeout`); `whileRunning` may talk to it meanwhile.
    public static func run(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(20),
        whileRunning: ((ChildProcess) async throws -> Void)? = nil
    ) async throws -> Run {
        guard let executable = executable(name) else { throw NotBuilt(name: name) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).log")
        let process = try ChildProcess(
            executable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, output: output)
        if let whileRunning { try await whileRunning(process) }
        var timedOut = false
        if try await !process.wait(timeout: timeout) {
            timedOut = true
            process.signal(SIGTERM)
            if try await !process.wait(timeout: .seconds(5)) { process.signal(SIGKILL) }
            process.waitUntilExit()
        }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: output)
        return Run(status: process.terminationStatus, output: text, timedOut: timedOut)
    }
}
