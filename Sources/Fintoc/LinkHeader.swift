import Foundation

/// RFC 8288 `Link` headers as Fintoc paginates lists:
/// `<https://api.fintoc.com/v1/payment_intents?page=2>; rel="next", <…?page=9>; rel="last"`.
public enum LinkHeader {
    /// The URL of each relation; later duplicates of a relation are ignored.
    public static func parse(_ value: String) -> [String: URL] {
        var links: [String: URL] = [:]
        for entry in splitEntries(value) {
            guard let open = entry.firstIndex(of: "<"), let close = entry[open...].firstIndex(of: ">"),
                let url = URL(string: String(entry[entry.index(after: open)..<close]))
            else { continue }
            for parameter in entry[entry.index(after: close)...].split(separator: ";") {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, pair[0].lowercased() == "rel" else { continue }
                let relations = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                for relation in relations.split(separator: " ") where links[String(relation)] == nil {
                    links[String(relation)] = url
                }
            }
        }
        return links
    }

    /// Splits on the commas between entries, not those inside `<…>` (URLs may hold commas).
    private static func splitEntries(_ value: String) -> [Substring] {
        var entries: [Substring] = []
        var start = value.startIndex
        var insideURL = false
        for index in value.indices {
            switch value[index] {
            case "<": insideURL = true
            case ">": insideURL = false
            case "," where !insideURL:
                entries.append(value[start..<index])
                start = value.index(after: index)
            default: break
            }
        }
        entries.append(value[start...])
        return entries
    }
}
