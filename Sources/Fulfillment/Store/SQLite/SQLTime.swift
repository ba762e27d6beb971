import Foundation
import GRDB

/// A moment whose SQLite form is computed once. GRDB formats a `Date` with a `DateFormatter`
/// every time one is bound, which the bench showed among the writer's costs; one batch binds
/// the same "now" dozens of times.
struct SQLTime: DatabaseValueConvertible, Sendable {
    let date: Date
    let databaseValue: DatabaseValue

    init(_ date: Date) {
        self.date = date
        databaseValue = date.databaseValue
    }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> SQLTime? {
        Date.fromDatabaseValue(dbValue).map(SQLTime.init)
    }
}
