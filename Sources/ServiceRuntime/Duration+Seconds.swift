import Foundation

extension Duration {
    /// The duration in seconds, for Foundation's dates and intervals.
    public var timeInterval: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}
