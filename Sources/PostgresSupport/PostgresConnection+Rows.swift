import Logging
import PostgresNIO

/// Small reads on top of PostgresNIO's row sequences, for statements whose answer is one value
/// or "was there a row".
extension PostgresConnection {
    /// Runs a statement whose rows (if any) are not needed.
    public func execute(_ query: PostgresQuery, logger: Logger) async throws {
        _ = try await self.query(query, logger: logger)
    }

    /// How many rows the statement returned (use `RETURNING 1` to count what a write touched).
    public func count(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        var count = 0
        for try await _ in try await self.query(query, logger: logger) { count += 1 }
        return count
    }

    /// The first column of the first row, or nil when there is no row.
    public func scalar<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: Value.Type, logger: Logger) async throws
        -> Value?
    {
        var value: Value?
        for try await column in try await self.query(query, logger: logger).decode(Value.self) where value == nil {
            value = column
        }
        return value
    }
}
