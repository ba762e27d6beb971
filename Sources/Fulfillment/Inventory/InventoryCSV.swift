import Foundation
import PaymentsCore
import SwiftCSV

/// One valid row of an inventory file.
public struct InventoryRow: Sendable, Hashable {
    public var sku: String
    public var name: String
    public var onHand: Int64

    public init(sku: String, name: String, onHand: Int64) {
        self.sku = sku
        self.name = name
        self.onHand = onHand
    }
}

/// What is wrong with an inventory file, every bad row with its line number, so the whole file
/// can be fixed in one go; nothing is applied while any problem remains.
public struct InventoryImportError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// 1-based line in the file (1 is the header).
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public var problems: [Problem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads `sku,name,on_hand` files (a header row first, columns in any order, extra columns
/// refused) with SwiftCSV.
public enum InventoryCSV {
    public static let maxRows = 1_000_000
    public static let maxOnHand: Int64 = 1_000_000_000

    public static func parse(_ text: String) throws(InventoryImportError) -> [InventoryRow] {
        let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        let csv: EnumeratedCSV
        do {
            csv = try EnumeratedCSV(string: body, delimiter: .comma, loadColumns: false)
        } catch {
            throw InventoryImportError(problems: [.init(line: 1, reason: "not a readable CSV file: \(error)")])
        }
        let header = csv.header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let skuColumn = header.firstIndex(of: "sku"), let nameColumn = header.firstIndex(of: "name"),
            let onHandColumn = header.firstIndex(of: "on_hand")
        else {
            throw InventoryImportError(problems: [
                .init(line: 1, reason: "the header must name the columns sku, name and on_hand, not \(csv.header.joined(separator: ","))")
            ])
        }
        if header.count != 3 {
            throw InventoryImportError(problems: [.init(line: 1, reason: "expected exactly the columns sku, name and on_hand")])
        }
        var problems: [InventoryImportError.Problem] = []
        var rows: [InventoryRow] = []
        var seen: [String: Int] = [:]
        // SwiftCSV pads short rows to the longest one; data rows follow the header line by line
        // (a quoted field spanning lines would shift later numbers, which the reasons make clear).
        let lines = csv.rows.enumerated().filter { !$0.element.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty } }
        if lines.count > maxRows {
            throw InventoryImportError(problems: [.init(line: 1, reason: "more than \(maxRows) rows")])
        }
        for (index, fields) in lines {
            let line = index + 2
            if fields.count > 3, fields[3...].contains(where: { !$0.isEmpty }) {
                problems.append(.init(line: line, reason: "has more than 3 fields"))
                continue
            }
            let sku = fields[skuColumn].trimmingCharacters(in: .whitespaces)
            let name = fields[nameColumn].trimmingCharacters(in: .whitespaces)
            let quantityText = fields[onHandColumn].trimmingCharacters(in: .whitespaces)
            var reasons: [String] = []
            let item = LineItem(sku: sku, name: name, quantity: 1, unitAmount: 0)
            do {
                try item.validate(at: "")
            } catch {
                reasons += error.issues.map { "\($0.path): \($0.reason)" }
            }
            let onHand = Int64(quantityText)
            if onHand == nil {
                reasons.append("on_hand: \"\(quantityText)\" is not a whole number")
            } else if let onHand, onHand < 0 || onHand > maxOnHand {
                reasons.append("on_hand: must be between 0 and \(maxOnHand)")
            }
            if let first = seen[sku], !sku.isEmpty {
                reasons.append("sku: \(sku) already appears on line \(first)")
            }
            if reasons.isEmpty, let onHand {
                seen[sku] = line
                rows.append(InventoryRow(sku: sku, name: name, onHand: onHand))
            } else {
                problems.append(.init(line: line, reason: reasons.joined(separator: "; ")))
            }
        }
        guard problems.isEmpty else { throw InventoryImportError(problems: problems) }
        return rows
    }
}
