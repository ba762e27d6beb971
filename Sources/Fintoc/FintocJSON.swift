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
                return Date(timeIntervalSince1970: seconds)
            }
            let text = try container.decode(String.self)
            if let date = Timestamp.parse(text) {
                return date
            }
            if !text.isEmpty, text.allSatisfy(\.isNumber), let seconds = TimeInterval(text) {
                return Date(timeIntervalSince1970: seconds)
            }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not a timestamp")
        }
        return decoder
    }

    public static func encoder() -> JSONEncoder {
        Timestamp.jsonEncoder()
    }
}
