import Fintoc
import Foundation
import Hummingbird

/// Lists as Fintoc answers them: a bare JSON array and navigation in a `Link` header (RFC 8288).
/// v1 pages by `?page=N` with first/prev/next/last; v2 by cursor (`starting_after`) with next only.
enum ListPages {
    static let defaultPerPage = 30
    static let maxPerPage = 300

    static func perPage(_ call: APICall) throws(SandboxError) -> Int {
        guard let text = call.query("per_page") else { return defaultPerPage }
        guard let value = Int(text), (1...maxPerPage).contains(value) else {
            throw .invalidParameter("per_page", "per_page must be an integer from 1 to \(maxPerPage).")
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

    static func cursor(_ items: [(id: String, json: JSONValue)], _ call: APICall, configuration: SandboxConfiguration) throws(SandboxError) -> APIAnswer {
        let perPage = try perPage(call)
        var start = items.startIndex
        if let after = call.query("starting_after") {
            guard let index = items.firstIndex(where: { $0.id == after }) else {
                throw .missingResource("object", id: after, param: "starting_after")
            }
            start = items.index(after: index)
        }
        let slice = items[start...].prefix(perPage)
        var answer = APIAnswer.json(.array(slice.map(\.json)))
        if start + slice.count < items.count, let lastID = slice.last?.id {
            answer.headers[.link] = "<\(base(call, configuration: configuration))?per_page=\(perPage)&starting_after=\(lastID)>; rel=\"next\""
        }
        return answer
    }
}
