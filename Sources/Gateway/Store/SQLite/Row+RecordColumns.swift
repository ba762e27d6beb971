import Foundation
import GRDB

/// GRDB's rows as `RecordColumns`: the two records every webhook reads are fetched through the
/// hand-written initialisers rather than Codable.
extension Row: RecordColumns {
    func text(_ column: String) throws -> String { try decode(String.self, forColumn: column) }
    func optionalText(_ column: String) throws -> String? { try decode(String?.self, forColumn: column) }
    func integer(_ column: String) throws -> Int64 { try decode(Int64.self, forColumn: column) }
    func optionalInteger(_ column: String) throws -> Int64? { try decode(Int64?.self, forColumn: column) }
    func date(_ column: String) throws -> Date { try decode(Date.self, forColumn: column) }
    func optionalDate(_ column: String) throws -> Date? { try decode(Date?.self, forColumn: column) }
    func boolean(_ column: String) throws -> Bool { try decode(Bool?.self, forColumn: column) ?? false }
    func bytes(_ column: String) throws -> Data { try decode(Data.self, forColumn: column) }
    func optionalBytes(_ column: String) throws -> Data? { try decode(Data?.self, forColumn: column) }
}

extension OrderRecord {
    init(row: Row) throws { try self.init(columns: row) }
}

extension CheckoutRecord {
    init(row: Row) throws { try self.init(columns: row) }
}
