import Foundation

extension FintocClient {
    /// `GET /v2/customers`: filters `tax_id` and `tax_id_type`, cursor pages.
    public func customers(query: [URLQueryItem] = [], maxPages: Int = 100) -> PagedList<FintocCustomer> {
        list("/v2/customers", query: query, maxPages: maxPages)
    }
}
