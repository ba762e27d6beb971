import Foundation
import PaymentsCore

/// JSON coding the way Fintoc's API speaks it.
///
/// Timestamps arrive as RFC 3339 with or without milliseconds, and in older v1 objects as Unix
/// seconds (a number or a digit string); all are read. Written timestamps are RFC 3339 with
/// milliseconds in UTC, as the API answers.
public enum FintocJSON {
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                return try unixSeconds(seconds, in: container)
            }
            let text = try container.decode(String.self)
            if let date = Timestamp.parse(text) {
                return date
            }
            if !text.isEmpty, text.allSatisfy(\.isNumber), let seconds = TimeInterval(text) {
                return try unixSeconds(seconds, in: container)
            }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not a timestamp")
        }
        return decoder
    }

    /// Unix seconds from 1970 to about the year 5138; anything else is refused rather than
    /// carried into dates no timestamp can write.
    private static func unixSeconds(_ seconds: Double, in container: any SingleValueDecodingContainer) throws -> Date {
        guard seconds.isFinite, (0...100_000_000_000).contains(seconds) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(seconds) is not a plausible Unix time")
        }
        return Date(timeIntervalSince1970: seconds)
    }

    public static func encoder() -> JSONEncoder {
        Timestamp.jsonEncoder()
    }
}
