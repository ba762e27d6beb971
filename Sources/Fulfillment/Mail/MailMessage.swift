import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An RFC 5322 message in UTF-8: headers encoded per RFC 2047 where they need it, the plain-text
/// body in base64 so any server carries it unchanged, CRLF line endings.
struct MailMessage: Sendable {
    var from: MailAddress
    var to: MailAddress
    var subject: String
    var body: String
    var messageID: String
    var date: Date
    var language: String

    func rendered() -> Data {
        var lines = [
            "From: \(Self.address(from))",
            "To: \(Self.address(to))",
            "Subject: \(Self.encodedWord(subject))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Language: \(language)",
            "Content-Transfer-Encoding: base64",
            "",
        ]
        // CRLF line endings, built byte-wise (String.replacingOccurrences goes through NSString).
        var normalized = [UInt8]()
        normalized.reserveCapacity(body.utf8.count + 64)
        for byte in body.utf8 where byte != UInt8(ascii: "\r") {
            if byte == UInt8(ascii: "\n") { normalized.append(UInt8(ascii: "\r")) }
            normalized.append(byte)
        }
        let encoded = Data(normalized).base64EncodedString()
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return Data((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// `Name <user@host>` with the name encoded when it is not plain ASCII.
    static func address(_ address: MailAddress) -> String {
        guard let name = address.displayName, !name.isEmpty else { return address.address }
        let plain = name.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 32 && !"\"\\<>,;:@()[]".unicodeScalars.contains($0) }
        return "\(plain ? name : encodedWord(name)) <\(address.address)>"
    }

    /// The text as is when it is printable ASCII, else as RFC 2047 base64 encoded-words short
    /// enough for the 78-column line limit.
    static func encodedWord(_ text: String) -> String {
        let cleaned = String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
        if cleaned.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 32 }) { return cleaned }
        var words: [String] = []
        var chunk = ""
        for character in cleaned {
            if (chunk + String(character)).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    /// `Sat, 21 Nov 2026 08:30:00 +0000`, computed without a formatter (no locale, cheap).
    static func rfc5322Date(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
