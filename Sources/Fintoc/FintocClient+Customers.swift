import Foundation

extension FintocClient {
    // MARK: Customers (v2)

    /// `POST /v2/customers`. A tax id another customer of this mode already has answers 409:
    /// look that customer up with `customers(query:)` and reuse its id.
    public func createCustomer(_ parameters: CreateCustomer, idempotencyKey: String) async throws(FintocClientError) -> FintocCustomer {
        try await send(.POST, .path("/v2/customers"), body: parameters, idempotencyKey: idempotencyKey).0
    }

    public func customer(_ id: String) async throws(FintocClientError) -> FintocCustomer {
        try await send(.GET, .path("/v2/customers/\(escaped(id))")).0
    }

    /// `GET /v2/customers`, newest first, following the cursor `Link` (`next`) page by page.
    ///
    /// Filters go in `query`: `tax_id` (a RUT with or without dots and hyphen, or an RFC in any
    /// case), `tax_id_type` (`cl_rut`, `mx_rfc`), and `limit` (1–300, default 30) for the page size.
    public func customers(query: [URLQueryItem] = [], maxPages: Int = 100) -> PagedList<FintocCustomer> {
        list("/v2/customers", query: query, maxPages: maxPages)
    }
}
