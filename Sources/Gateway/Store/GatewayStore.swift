import Foundation
import Logging
import PaymentsCore
import PostgresSupport

/// The gateway's store, on the engine its configuration names (docs/architecture.md, "Store
/// engines"): an SQLite file, the embedded default, or a PostgreSQL database shared by any
/// number of gateway replicas. Services call its named operations, each one transaction in the
/// gateway's words ("record this checkout and its answer", "claim the next outbox batch");
/// nothing outside `Store/` sees SQL or knows the engine (`GatewayEngine`).
public struct GatewayStore: Sendable {
    /// Internal: tests (`@testable`) may look through it at the engine's own rows.
    let engine: any GatewayEngine

    init(engine: any GatewayEngine) {
        self.engine = engine
    }

    /// Opens (creating folders as needed) and migrates the SQLite file at `path`.
    public init(path: String) throws {
        self.init(engine: try SQLiteGatewayStore(path: path))
    }

    /// Opens and migrates the store at `location`: an SQLite file, or a PostgreSQL database with
    /// a pool of at most `maximumConnections`.
    public static func open(
        _ location: DatabaseLocation, maximumConnections: Int = 20, logger: Logger = Logger(label: "gateway-store")
    ) async throws -> GatewayStore {
        switch location {
        case .sqlite(let path):
            return try GatewayStore(path: path)
        case .postgres(let url):
            let database = try await PostgresPool(
                url: url, maximumConnections: maximumConnections, lockTimeout: PostgresGatewayStore.lockTimeout, logger: logger)
            return GatewayStore(engine: try await PostgresGatewayStore(database: database, logger: logger))
        }
    }

    /// Opens and migrates the store `configuration` names (GATEWAY_DATABASE_URL or
    /// GATEWAY_DATABASE).
    public static func open(_ configuration: GatewayConfiguration, logger: Logger) async throws -> GatewayStore {
        try await open(configuration.database, maximumConnections: configuration.databaseMaxConnections, logger: logger)
    }

    func isReachable() async -> Bool { await engine.isReachable() }
}

/// Orders and checkouts, and what reconciliation reads and marks.
extension GatewayStore {
    /// A checkout of `storefront`'s orders; another storefront's checkout does not exist for it.
    func checkout(_ id: String, storefront: String) async throws -> CheckoutRecord? {
        try await engine.checkout(id, storefront: storefront)
    }

    /// The checkout `checkoutID` of `storefront` if it exists (it wins over anything the order
    /// says since), else the storefront's order `orderID`, if any; one snapshot.
    func lookUpCheckout(_ checkoutID: String, orElseOrder orderID: String, storefront: String) async throws -> CheckoutLookup {
        try await engine.lookUpCheckout(checkoutID, orElseOrder: orderID, storefront: storefront)
    }

    /// An order of `storefront` with its checkouts and domain events.
    func orderWithHistory(_ id: String, storefront: String) async throws -> OrderHistory? {
        try await engine.orderWithHistory(id, storefront: storefront)
    }

    /// Records a new checkout in one transaction: its order (created, or its customer and
    /// language updated), the checkout as the order's next attempt, the customer it was made for,
    /// its `checkout.created` event, and the answer to the request's idempotency key.
    ///
    /// `refusal` is asked again inside the transaction about an order already stored (a
    /// concurrent request for the same new order may have recorded or paid it since the check
    /// before calling Fintoc); the error it returns is thrown and nothing is written. When this
    /// very checkout is already recorded (the same request after its idempotency record
    /// expired), it stands and is answered again.
    func recordCheckout(
        _ new: NewCheckout, answering claim: IdempotencyClaim, refusal: @escaping @Sendable (OrderRecord) -> (any Error)?,
        answer: @escaping @Sendable (CheckoutRecord) throws -> StoredAnswer
    ) async throws -> StoredAnswer {
        try await engine.recordCheckout(new, answering: claim, refusal: refusal, answer: answer)
    }

    /// Marks checkout `id` expired (unless it is already final) with its `checkout.expired` event,
    /// and stores the answer to the request's idempotency key, in one transaction. Nil (nothing
    /// written) when the checkout or its order is gone.
    func expireCheckout(
        _ id: String, now: Date, traceparent: String?, answering claim: IdempotencyClaim,
        answer: @escaping @Sendable (CheckoutRecord) throws -> StoredAnswer
    ) async throws -> StoredAnswer? {
        try await engine.expireCheckout(id, now: now, traceparent: traceparent, answering: claim, answer: answer)
    }

    /// The checkouts reconciliation should re-read, at most `limit`, in order: those marked for
    /// review (oldest mark first); open ones (or waiting for the customer's action) that expired
    /// before `overdueBefore` and were not re-read since (`everythingOpen`: also those without an
    /// expiry); pending ones not changed nor re-read since `pendingBefore`.
    func checkoutsToReconcile(overdueBefore: Date, pendingBefore: Date, everythingOpen: Bool, limit: Int) async throws -> [CheckoutRecord] {
        try await engine.checkoutsToReconcile(
            overdueBefore: overdueBefore, pendingBefore: pendingBefore, everythingOpen: everythingOpen, limit: limit)
    }

    /// Notes that checkout `id` was re-read from Fintoc at `now`.
    func markReconciled(_ id: String, at now: Date) async throws {
        try await engine.markReconciled(id, at: now)
    }
}

/// Taking in Fintoc events, with group commit: `ingest` writes a group of events in one
/// transaction (one fsync for many webhooks), each in its own savepoint; `prepareIngest` works an
/// event's plan out beforehand, off the writer. What an event does is `WebhookApplier.decide`'s.
extension GatewayStore {
    /// Works out `item`'s plan from a read snapshot, concurrently with other requests, so the
    /// writer only checks it is still current and writes. Nil for a redelivery (the writer
    /// answers it as a duplicate without working it out).
    func prepareIngest(_ item: IngestItem) async throws -> IngestPlan? {
        try await engine.prepareIngest(item)
    }

    /// Applies `items` in one transaction, each inside its own savepoint: one that fails (a bug,
    /// a constraint) is rolled back alone and its result is the error, while the rest commit.
    /// Throws only when the transaction itself fails (disk full, I/O error): then none is stored.
    func ingest(_ items: [IngestItem]) async throws -> [Result<IngestOutcome, any Error>] {
        try await engine.ingest(items)
    }
}

/// The gateway's memory of Fintoc Customers (by mode and normalised tax id) and of the customer
/// reference each storefront request chose, so its retries send the same body.
/// See `CustomerReference` and `HostedSessions` for why.
extension GatewayStore {
    /// The reference a request sends: the one it sent before, else a customer known for its tax
    /// id, else `customer_data`; recorded before it is used.
    func customerReference(checkoutID: String, mode: String, taxID: TaxID, normalized: String, now: Date) async throws -> CustomerReference
    {
        try await engine.customerReference(checkoutID: checkoutID, mode: mode, taxID: taxID, normalized: normalized, now: now)
    }

    /// The request moves to `reference` (after Fintoc refused its `customer_data`, or forgot a
    /// customer), before it is sent.
    func chooseCustomer(_ reference: CustomerReference, checkoutID: String, now: Date) async throws {
        try await engine.chooseCustomer(reference, checkoutID: checkoutID, now: now)
    }

    /// Forgets a customer Fintoc says does not exist, and the request's choice of it.
    func forgetCustomer(customerID: String, checkoutID: String) async throws {
        try await engine.forgetCustomer(customerID: customerID, checkoutID: checkoutID)
    }

    /// Deletes choices made before `cutoff`; returns how many. Past Fintoc's idempotency window a
    /// retry would make a new session whatever is sent, so they no longer protect anything.
    func pruneCustomerChoices(createdBefore cutoff: Date) async throws -> Int {
        try await engine.pruneCustomerChoices(createdBefore: cutoff)
    }
}

/// The operator's reads: an order's stored history and a selection of domain events to replay.
extension GatewayStore {
    /// The order `name` names, its domain events (by sequence) and the Fintoc events matched to
    /// its checkouts (by arrival), from one snapshot. Throws `EventLog.LookupError` when it names
    /// no order, or (without a storefront) several.
    func history(of name: EventLog.OrderName) async throws -> (order: OrderRecord, domain: [OutboxRecord], fintoc: [InboxRecord]) {
        try await engine.history(of: name)
    }

    /// Stored domain events by sequence, at most `limit`: the order's (when `name` is given) and
    /// those written at or after `since` (when given).
    func domainEvents(order name: EventLog.OrderName?, since: Date?, limit: Int) async throws -> [OutboxRecord] {
        try await engine.domainEvents(order: name, since: since, limit: limit)
    }
}

/// The idempotency keys of storefront requests: claimed, answered, freed and pruned. The rules
/// (how long an answer lives, when a request is judged abandoned) are `IdempotencyStore`'s.
extension GatewayStore {
    /// Claims `key` for a request, or says why not: its stored answer, another request under the
    /// key, or the key still held. A key older than `lifetime`, or held longer than
    /// `abandonedAfter` by the same request, is taken over.
    func claimIdempotencyKey(
        storefront: String, key: String, requestHash: Data, now: Date, lifetime: TimeInterval, abandonedAfter: TimeInterval
    ) async throws -> IdempotencyStore.Begin {
        try await engine.claimIdempotencyKey(
            storefront: storefront, key: key, requestHash: requestHash, now: now, lifetime: lifetime, abandonedAfter: abandonedAfter)
    }

    /// Stores `answer` for the key `claim` holds, in its own transaction (an answer that records
    /// nothing else: a refusal, or a checkout made earlier); throws `IdempotencyStore.ClaimLost`
    /// when the claim no longer holds the key.
    func storeAnswer(status: Int, body: Data, for claim: IdempotencyClaim) async throws {
        try await engine.storeAnswer(status: status, body: body, for: claim)
    }

    /// Frees a key still in progress, if `claim` still holds it.
    func releaseIdempotencyKey(_ claim: IdempotencyClaim) async throws {
        try await engine.releaseIdempotencyKey(claim)
    }

    /// Deletes keys created before `cutoff`; returns how many.
    func pruneIdempotencyKeys(createdBefore cutoff: Date) async throws -> Int {
        try await engine.pruneIdempotencyKeys(createdBefore: cutoff)
    }
}

/// Storefront API keys, stored as hashes.
extension GatewayStore {
    func insertKey(_ record: StorefrontKeyRecord) async throws {
        try await engine.insertKey(record)
    }

    /// Makes the configured keys (SHA-256 hash → storefront name) the active environment keys,
    /// in one transaction: new ones are added, ones no longer configured are revoked, a renamed
    /// one is renamed. A key an operator revoked stays revoked, even while still configured: a
    /// restart must not bring a leaked key back. CLI keys are left alone. `makeKey` builds the
    /// row of a key seen for the first time.
    func syncEnvironmentKeys(
        wanted: [Data: String], now: Date, makeKey: @escaping @Sendable (_ hash: Data, _ name: String) -> StorefrontKeyRecord
    ) async throws {
        try await engine.syncEnvironmentKeys(wanted: wanted, now: now, makeKey: makeKey)
    }

    /// Every key, revoked ones included, newest first.
    func allKeys() async throws -> [StorefrontKeyRecord] {
        try await engine.allKeys()
    }

    /// Revokes the active key `id`; false when there is no such active key.
    func revokeKey(id: String, now: Date) async throws -> Bool {
        try await engine.revokeKey(id: id, now: now)
    }

    /// The keys not revoked, for authentication.
    func activeKeys() async throws -> [StorefrontKeyRecord] {
        try await engine.activeKeys()
    }
}

/// Leases: each of the gateway's singletons (the relay, reconciliation, the janitor) runs in the
/// one process that holds its lease (`Lease`).
extension GatewayStore {
    /// Takes the lease `name` for `holder` until `duration` from now, or renews it if `holder`
    /// has it; false while another holder's lease runs. On PostgreSQL the database's clock
    /// decides, so replicas on hosts whose clocks differ agree.
    func takeLease(_ name: String, holder: String, for duration: Duration) async throws -> Bool {
        try await engine.takeLease(name, holder: holder, for: duration)
    }

    /// Ends `holder`'s lease `name`, if it has it, so another process may take it at once.
    func releaseLease(_ name: String, holder: String) async throws {
        try await engine.releaseLease(name, holder: holder)
    }
}

/// The outbox: domain events written with the state they describe, carried to the broker by the
/// relay (docs/architecture.md rule 5).
extension GatewayStore {
    /// The next batch to publish: the oldest unpublished row of each order, oldest first, at most
    /// `limit`. One row per order, so a failure can never let an order's later event overtake an
    /// earlier one.
    func claimOutboxBatch(limit: Int) async throws -> [OutboxRecord] {
        try await engine.claimOutboxBatch(limit: limit)
    }

    /// Records what the broker said about a batch, in one transaction: the `published` rows
    /// (acknowledged) are marked published at `now`; every row counts an attempt.
    func markOutbox(published: [Int64], failed: [Int64], now: Date) async throws {
        guard !published.isEmpty || !failed.isEmpty else { return }
        try await engine.markOutbox(published: published, failed: failed, now: now)
    }

    /// Rows waiting and the oldest one's age: the cheap part, for the relay's gauges.
    func outboxWaiting(now: Date) async throws -> (depth: Int, oldestAgeSeconds: Double?) {
        try await engine.outboxWaiting(now: now)
    }

    /// How far behind the relay is, history included (the `outbox status` command).
    func outboxStatus(now: Date) async throws -> OutboxStatus {
        try await engine.outboxStatus(now: now)
    }
}
