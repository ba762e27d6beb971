import Fintoc
import Foundation
import Hummingbird
import PaymentsCore

/// Lists as Fintoc answers them: a bare JSON array and navigation in a `Link` header (RFC 8288).
/// v1 pages by `?page=N` with first/prev/next/last; v2 by cursor (`starting_after`) with next,
/// and for lists that take `ending_before` (customers) prev as well.
enum ListPages {
    static let defaultPerPage = 30
    static let maxPerPage = 300

    static func perPage(_ call: APICall) throws(SandboxError) -> Int {
        try pageSize(call, parameter: "per_page")
    }

    /// The page size asked for in `parameter`: 1 to 300, 30 when absent.
    static func pageSize(_ call: APICall, parameter: String) throws(SandboxError) -> Int {
        guard let text = call.query(parameter) else { return defaultPerPage }
        guard let value = Int(text), (1...maxPerPage).contains(value) else {
            throw .invalidParameter(parameter, "\(parameter) must be an integer from 1 to \(maxPerPage).")
        }
        return value
    }

    /// The absolute URL of this list as the client reached it, so a client following `Link`
    /// comes back to the same server whatever port it runs on.
    static func base(_ call: APICall, configuration: SandboxConfiguration) -> String {
        if let authority = call.request.head.authority, !authority.isEmpty {
            // Reached through the public URL (perhaps https behind a proxy): keep its scheme.
            if let url = URL(string: configuration.publicURL), let host = url.host, authority == host + (url.port.map { ":\($0)" } ?? "") {
                return "\(configuration.publicURL)\(call.request.uri.path)"
            }
            return "http://\(authority)\(call.request.uri.path)"
        }
        return "\(configuration.publicURL)\(call.request.uri.path)"
    }

    static func paged(_ items: [JSONValue], _ call: APICall, configuration: SandboxConfiguration) throws(SandboxError) -> APIAnswer {
        let perPage = try perPage(call)
        var page = 1
        if let text = call.query("page") {
            guard let value = Int(text), value >= 1 else { throw .invalidParameter("page", "page must be a positive integer.") }
            page = value
        }
        let last = max(1, (items.count + perPage - 1) / perPage)
        // Past the last page the answer is empty (with its links); the offset is never computed
        // for such a page, so no page number can overflow it.
        let slice = page > last ? [] : items.dropFirst((page - 1) * perPage).prefix(perPage)
        let base = base(call, configuration: configuration)
        func link(_ number: Int, _ rel: String) -> String { "<\(base)?page=\(number)&per_page=\(perPage)>; rel=\"\(rel)\"" }
        var links = [link(1, "first")]
        if page > 1 { links.append(link(min(page - 1, last), "prev")) }
        if page < last { links.append(link(page + 1, "next")) }
        links.append(link(last, "last"))
        var answer = APIAnswer.json(.array(Array(slice)))
        answer.headers[.link] = links.joined(separator: ", ")
        return answer
    }

    /// How one v2 list pages by cursor.
    struct Cursor: Sendable {
        /// The page size parameter: `per_page` for checkout sessions, `limit` for customers.
        var sizeParameter = "per_page"
        /// Whether `ending_before` is taken and a `prev` link given. Checkout sessions document
        /// `starting_after` and `next` only; customers both directions.
        var backward = false
        /// Query parameters (filters) copied into every link, so following one keeps the filter.
        var kept: [String] = []
    }

    /// One page of `items` (already in list order, newest first): the first page, the one after
    /// `starting_after`, or the one right before `ending_before` (never both). `next` points
    /// past the page's last item while more follow; `prev` before its first while more precede.
    static func cursor(
        _ items: [(id: String, json: JSONValue)], _ call: APICall, configuration: SandboxConfiguration, _ style: Cursor = Cursor()
    ) throws(SandboxError) -> APIAnswer {
        let size = try pageSize(call, parameter: style.sizeParameter)
        let after = call.query("starting_after")
        let before = style.backward ? call.query("ending_before") : nil
        if after != nil, before != nil {
            throw .invalidParameter("ending_before", "starting_after and ending_before cannot be combined: send one cursor.")
        }
        func position(_ id: String, _ param: String) throws(SandboxError) -> Int {
            guard let index = items.firstIndex(where: { $0.id == id }) else { throw .missingResource("object", id: id, param: param) }
            return index
        }
        let range: Range<Int>
        if let after {
            let start = try position(after, "starting_after") + 1
            range = start..<min(start + size, items.count)
        } else if let before {
            let end = try position(before, "ending_before")
            range = max(0, end - size)..<end
        } else {
            range = 0..<min(size, items.count)
        }
        let page = items[range]
        var answer = APIAnswer.json(.array(page.map(\.json)))

        var fixed = [(style.sizeParameter, String(size))]
        for name in style.kept {
            if let value = call.query(name) { fixed.append((name, value)) }
        }
        let base = base(call, configuration: configuration)
        func link(_ cursor: (String, String), _ rel: String) -> String {
            let query = (fixed + [cursor]).map { "\($0.0)=\(queryEscaped($0.1))" }.joined(separator: "&")
            return "<\(base)?\(query)>; rel=\"\(rel)\""
        }
        var links: [String] = []
        if range.upperBound < items.count, let last = page.last { links.append(link(("starting_after", last.id), "next")) }
        if style.backward, range.lowerBound > 0, let first = page.first { links.append(link(("ending_before", first.id), "prev")) }
        if !links.isEmpty { answer.headers[.link] = links.joined(separator: ", ") }
        return answer
    }

    /// Everything but unreserved ASCII percent-encoded: a value in a `Link` URL can then hold no
    /// `,`, `;`, `>` or `&` that a client splitting the header or the query would trip on.
    static func queryEscaped(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
