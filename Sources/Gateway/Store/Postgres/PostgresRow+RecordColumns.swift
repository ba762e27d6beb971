import Foundation
import PostgresNIO

/// PostgresNIO's rows as `RecordColumns`, for the records' hand-written initialisers.
extension PostgresRandomAccessRow: RecordColumns {
    func text(_ column: String) throws -> String { try self[column].decode(String.self) }
    func optionalText(_ column: String) throws -> String? { try self[column].decode(String?.self) }
    func integer(_ column: String) throws -> Int64 { try self[column].decode(Int64.self) }
    func optionalInteger(_ column: String) throws -> Int64? { try self[column].decode(Int64?.self) }
    func date(_ column: String) throws -> Date { try self[column].decode(Date.self) }
    func optionalDate(_ column: String) throws -> Date? { try self[column].decode(Date?.self) }
    func boolean(_ column: String) throws -> Bool { try self[column].decode(Bool.self) }
    func bytes(_ column: String) throws -> Data { try self[column].decode(Data.self) }
    func optionalBytes(_ column: String) throws -> Data? { try self[column].decode(Data?.self) }
}

extension PostgresConnection {
    /// Every row of `query` as a record, by its `RecordColumns` initialiser.
    func records<Record>(_ query: PostgresQuery, logger: Logger, _ make: (PostgresRandomAccessRow) throws -> Record) async throws
        -> [Record]
    {
        var records: [Record] = []
        for try await row in try await self.query(query, logger: logger) {
            records.append(try make(row.makeRandomAccess()))
        }
        return records
    }
}
