import Foundation

/// RFC 3339 timestamps as the contract writes them (UTC, milliseconds) and reads them (with or
/// without fractional seconds, any offset), and JSON coders set up for them.
public enum Timestamp {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()
    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    static let earliestSeconds: TimeInterval = -62_135_596_800
    static let latestSeconds: TimeInterval = 253_402_300_799

    /// `2026-11-21T05:42:48.123Z`.
    ///
    /// The milliseconds are computed here in integers: a formatter given the `Double` behind a
    /// `Date` may print `.986` for a value meant as `.987`.
    public static func format(_ date: Date) -> String {
        // Clamped to the years 0001 to 9999 RFC 3339 can write, so no date can trap here.
        let clamped = min(max(date.timeIntervalSince1970, earliestSeconds), latestSeconds)
        let milliseconds = Int64((clamped * 1000).rounded(.down))
        let (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let whole = fraction < 0 ? (seconds - 1, fraction + 1000) : (seconds, fraction)
        var text = withoutFraction.format(Date(timeIntervalSince1970: TimeInterval(whole.0)))
        text.removeLast()  // the "Z"; the fraction goes before it
        let digits = String(whole.1)
        return text + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// Parses `2024-06-04T15:32:46.721Z`, `2024-06-04T15:32:46Z` or the same with an offset, to
    /// the millisecond.
    public static func parse(_ text: String) -> Date? {
        guard let date = (try? withFraction.parse(text)) ?? (try? withoutFraction.parse(text)) else { return nil }
        return Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// `date` cut to whole milliseconds, the precision the contract carries, so a value survives
    /// a round trip through JSON unchanged.
    public static func truncatedToMilliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    /// A decoder for contract JSON: timestamps as above, everything else default.
    public static func jsonDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "\"\(text)\" is not an RFC 3339 timestamp"
                )
            }
            return date
        }
        return decoder
    }

    /// An encoder for contract JSON: timestamps as above, keys sorted so the same value always
    /// gives the same bytes.
    public static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(format(date))
        }
        return encoder
    }
}
