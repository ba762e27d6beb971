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
        whileRunning: ((Process) async throws -> Void)? = nil
    ) async throws -> Run {
        guard let executable = executable(name) else { throw NotBuilt(name: name) }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        if let whileRunning { try await whileRunning(process) }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        var timedOut = false
        if process.isRunning {
            timedOut = true
            process.terminate()
            process.waitUntilExit()
        }
        try handle.close()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: output)
        return Run(status: process.terminationStatus, output: text, timedOut: timedOut)
    }
}
