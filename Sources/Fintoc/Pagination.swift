import Foundation

/// One page of a list: Fintoc answers a bare JSON array and puts navigation in `Link`.
public struct Page<Item: Sendable & Decodable>: Sendable {
    public let items: [Item]
    /// `first`, `prev`, `next`, `last` (v1, by page number) or only `next` (v2, by cursor).
    public let links: [String: URL]

    public var next: URL? { links["next"] }
}

/// Every item of a list, fetched a page at a time as the sequence is consumed, following `next`.
///
/// `maxPages` bounds the walk, so a misbehaving server that always links to a next page cannot
/// keep a caller looping forever.
public struct PagedList<Item: Sendable & Decodable>: AsyncSequence, Sendable {
    public typealias Element = Item

    let client: FintocClient
    let first: RequestTarget
    let maxPages: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(client: client, next: first, remainingPages: maxPages)
    }

    /// Every item, in order.
    public func collect() async throws(FintocClientError) -> [Item] {
        var all: [Item] = []
        var iterator = makeAsyncIterator()
        while let item = try await iterator.nextItem() {
            all.append(item)
        }
        return all
    }

    public struct Iterator: AsyncIteratorProtocol {
        let client: FintocClient
        var next: RequestTarget?
        var remainingPages: Int
        var buffer: [Item] = []
        var index = 0

        public mutating func next() async throws -> Item? {
            try await nextItem()
        }

        mutating func nextItem() async throws(FintocClientError) -> Item? {
            while index == buffer.count {
                guard let target = next, remainingPages > 0 else { return nil }
                let page: Page<Item> = try await client.page(target)
                remainingPages -= 1
                buffer = page.items
                index = 0
                if let link = page.next {
                    guard let url = client.sameOrigin(link) else {
                        throw .invalidResponse(
                            status: 200, requestID: nil,
                            reason: "the Link header points away from the configured API: \(link.absoluteString)")
                    }
                    next = .url(url)
                } else {
                    next = nil
                }
            }
            defer { index += 1 }
            return buffer[index]
        }
    }
}

extension FintocClient {
    /// `link` resolved against the base URL, if it stays on the base URL's scheme, host and port:
    /// every request carries the secret key, so a `Link` must not send it anywhere else.
    func sameOrigin(_ link: URL) -> URL? {
        guard let base = URL(string: configuration.baseURL + "/"),
            let resolved = URL(string: link.absoluteString, relativeTo: base)?.absoluteURL,
            resolved.scheme == base.scheme, resolved.host == base.host, resolved.port == base.port
        else { return nil }
        return resolved
    }

    /// Fetches one page.
    func page<Item: Sendable & Decodable>(_ target: RequestTarget) async throws(FintocClientError) -> Page<Item> {
        let (items, headers) = try await send(.GET, target, as: [Item].self)
        let links = headers.first(name: "Link").map(LinkHeader.parse) ?? [:]
        return Page(items: items, links: links)
    }

    func list<Item: Sendable & Decodable>(_ path: String, query: [URLQueryItem], maxPages: Int) -> PagedList<Item> {
        PagedList(client: self, first: .path(path, query: query), maxPages: maxPages)
    }
}
