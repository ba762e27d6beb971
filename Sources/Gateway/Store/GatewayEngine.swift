import Foundation
import PaymentsCore

/// The gateway's store operations, which each engine implements with its own statements and
/// migrations: `SQLiteGatewayStore` (one file, one writer) and `PostgresGatewayStore` (one
/// database, any number of gateway replicas). The rest of the gateway sees them through
/// `GatewayStore` and never learns which engine is behind it. Each operation is one
/// transaction, named in the gateway's words.
protocol GatewayEngine: Sendable {
    /// Whether the database answers a query (for `/readyz`).
    func isReachable() async -> Bool

    // Orders and checkouts (`+Checkouts`).
    func checkout(_ id: String, storefront: String) async throws -> CheckoutRecord?
    func lookUpCheckout(_ checkoutID: String, orElseOrder orderID: String, storefront: String) async throws -> CheckoutLookup
    func orderWithHistory(_ id: String, storefront: String) async throws -> OrderHistory?
    func recordCheckout(
        _ new: NewCheckout, answering claim: IdempotencyClaim, refusal: @escaping @Sendable (OrderRecord) -> (any Error)?,
        answer: @escaping @Sendable (CheckoutRecord) throws -> StoredAnswer
    ) async throws -> StoredAnswer
    func expireCheckout(
        _ id: String, now: Date, traceparent: String?, answering claim: IdempotencyClaim,
        answer: @escaping @Sendable (CheckoutRecord) throws -> StoredAnswer
    ) async throws -> StoredAnswer?
    func checkoutsToReconcile(overdueBefore: Date, pendingBefore: Date, everythingOpen: Bool, limit: Int) async throws -> [CheckoutRecord]
    func markReconciled(_ id: String, at now: Date) async throws

    // Fintoc events (`+Webhooks`).
    func prepareIngest(_ item: IngestItem) async throws -> IngestPlan?
    func ingest(_ items: [IngestItem]) async throws -> [Result<IngestOutcome, any Error>]

    // Fintoc customers (`+Customers`).
    func customerReference(checkoutID: String, mode: String, taxID: TaxID, normalized: String, now: Date) async throws -> CustomerReference
    func chooseCustomer(_ reference: CustomerReference, checkoutID: String, now: Date) async throws
    func forgetCustomer(customerID: String, checkoutID: String) async throws
    func pruneCustomerChoices(createdBefore cutoff: Date) async throws -> Int

    // The operator's reads (`+EventLog`).
    func history(of name: EventLog.OrderName) async throws -> (order: OrderRecord, domain: [OutboxRecord], fintoc: [InboxRecord])
    func domainEvents(order name: EventLog.OrderName?, since: Date?, limit: Int) async throws -> [OutboxRecord]

    // Idempotency keys (`+Idempotency`).
    func claimIdempotencyKey(
        storefront: String, key: String, requestHash: Data, now: Date, lifetime: TimeInterval, abandonedAfter: TimeInterval
    ) async throws -> IdempotencyStore.Begin
    func storeAnswer(status: Int, body: Data, for claim: IdempotencyClaim) async throws
    func releaseIdempotencyKey(_ claim: IdempotencyClaim) async throws
    func pruneIdempotencyKeys(createdBefore cutoff: Date) async throws -> Int

    // Storefront API keys (`+Keys`).
    func insertKey(_ record: StorefrontKeyRecord) async throws
    func syncEnvironmentKeys(
        wanted: [Data: String], now: Date, makeKey: @escaping @Sendable (_ hash: Data, _ name: String) -> StorefrontKeyRecord
    ) async throws
    func allKeys() async throws -> [StorefrontKeyRecord]
    func revokeKey(id: String, now: Date) async throws -> Bool
    func activeKeys() async throws -> [StorefrontKeyRecord]

    // Leases of the gateway's singletons (`+Leases`).
    func takeLease(_ name: String, holder: String, for duration: Duration) async throws -> Bool
    func releaseLease(_ name: String, holder: String) async throws

    // The outbox (`+Outbox`).
    func claimOutboxBatch(limit: Int) async throws -> [OutboxRecord]
    func markOutbox(published: [Int64], failed: [Int64], now: Date) async throws
    func outboxWaiting(now: Date) async throws -> (depth: Int, oldestAgeSeconds: Double?)
    func outboxStatus(now: Date) async throws -> OutboxStatus
}

/// An answer stored for idempotent replay: its HTTP status and JSON body.
struct StoredAnswer: Sendable {
    let status: Int
    let body: Data
}

/// A checkout to record: the storefront's request and what Fintoc made for it.
struct NewCheckout: Sendable {
    let request: CheckoutRequest
    let made: FintocObject
    /// The storefront's name, recorded on its orders.
    let storefront: String
    let checkoutID: String
    let traceparent: String?
    let now: Date
}

/// What a new checkout request finds, read in one snapshot before Fintoc is called.
enum CheckoutLookup: Sendable {
    /// This very request (by its derived checkout id) already made its checkout.
    case made(CheckoutRecord)
    /// The order the request names, if the storefront has it.
    case order(OrderRecord?)
}

/// An order with its checkouts (by attempt) and domain events (by sequence).
struct OrderHistory: Sendable {
    let order: OrderRecord
    let checkouts: [CheckoutRecord]
    let events: [OutboxRecord]
}

/// A storefront's hold on an idempotency key: the key's scope (the storefront key's id), the key,
/// and the claim token of the request that holds it. Only the holder may answer or free the key.
struct IdempotencyClaim: Sendable, Hashable {
    let storefront: String
    let key: String
    let claim: String
}
