import Foundation

/// How every executable ends on bad configuration: one line on standard error naming the
/// variable and the reason, and exit status 78 (EX_CONFIG), which orchestrators and scripts can
/// tell apart from a crash.
public enum ConfigurationExit {
    public static let status: Int32 = 78

    public static func exit(_ executable: String, _ error: any Error) -> Never {
        FileHandle.standardError.write(Data("\(executable): configuration error: \(error)\n".utf8))
        Foundation.exit(status)
    }
}
