import Foundation

/// Publisher-confirm bookkeeping of one confirm-mode channel: messages waiting for room in the
/// window, and messages sent but not yet settled, by delivery tag.
///
/// librabbitmq 0.11 has no confirm support beyond `confirm.select`, so the connection thread
/// feeds this tracker the `basic.ack`, `basic.nack` and `basic.return` it reads. Confined to
/// that thread.
final class PublishTracker {
    typealias Completion = PublishCompletion

    private struct InFlight {
        var message: OutboundMessage
        var completion: Completion
        var returned: (code: UInt16, text: String)?
    }

    var window: Int
    private var waiting: [(OutboundMessage, Completion)] = []
    private var waitingHead = 0
    private var outstanding: [UInt64: InFlight] = [:]
    private var nextTag: UInt64 = 1
    private var lowestTag: UInt64 = 1

    init(window: Int) {
        self.window = max(1, window)
    }

    var outstandingCount: Int { outstanding.count }
    var waitingCount: Int { waiting.count - waitingHead }
    var isIdle: Bool { outstanding.isEmpty && waitingCount == 0 }

    func enqueue(_ message: OutboundMessage, _ completion: Completion) {
        waiting.append((message, completion))
    }

    /// The next message to send if the window has room. The caller must call `sent` with it
    /// before sending, so a send that fails is settled with the rest as connection-lost.
    func next() -> (OutboundMessage, Completion)? {
        guard waitingHead < waiting.count, outstanding.count < window else { return nil }
        let item = waiting[waitingHead]
        waitingHead += 1
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        } else if waitingHead > 4096 && waitingHead * 2 > waiting.count {
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
        return item
    }

    func sent(_ message: OutboundMessage, _ completion: Completion) {
        outstanding[nextTag] = InFlight(message: message, completion: completion)
        nextTag += 1
    }

    func ack(_ tag: UInt64, multiple: Bool) {
        settle(tag, multiple: multiple) { inFlight in
            if let returned = inFlight.returned {
                return .returned(replyCode: returned.code, replyText: returned.text)
            }
            return .acked
        }
    }

    func nack(_ tag: UInt64, multiple: Bool) {
        settle(tag, multiple: multiple) { _ in .nacked }
    }

    private func settle(_ tag: UInt64, multiple: Bool, outcome: (InFlight) -> PublishOutcome) {
        if multiple {
            guard tag >= lowestTag else { return }
            for current in lowestTag...tag {
                if let inFlight = outstanding.removeValue(forKey: current) {
                    inFlight.completion.resume(returning: outcome(inFlight))
                }
            }
        } else if let inFlight = outstanding.removeValue(forKey: tag) {
            inFlight.completion.resume(returning: outcome(inFlight))
        }
        while lowestTag < nextTag && outstanding[lowestTag] == nil {
            lowestTag += 1
        }
    }

    /// A `basic.return` carries no delivery tag. Returns come in publish order and before the
    /// ack of the same message, so the returned message is the oldest unsettled one with the
    /// same exchange, routing key, message id and body.
    func returned(code: UInt16, text: String, exchange: String, routingKey: String, messageID: String?, body: Data) {
        guard lowestTag < nextTag else { return }
        for tag in lowestTag..<nextTag {
            guard let inFlight = outstanding[tag], inFlight.returned == nil else { continue }
            let message = inFlight.message
            if message.exchange == exchange && message.routingKey == routingKey
                && message.properties.messageID == messageID && message.body == body
            {
                outstanding[tag]?.returned = (code, text)
                return
            }
        }
    }

    /// Settles every sent message as connection-lost and starts a new tag sequence, as a new
    /// channel does.
    func failOutstanding(_ error: AMQPError) {
        let lost = outstanding
        outstanding.removeAll()
        nextTag = 1
        lowestTag = 1
        for (_, inFlight) in lost.sorted(by: { $0.key < $1.key }) {
            inFlight.completion.resume(returning: .connectionLost(error))
        }
    }

    func failWaiting(_ error: AMQPError) {
        let pending = waiting[waitingHead...]
        waiting.removeAll()
        waitingHead = 0
        for (_, completion) in pending {
            completion.resume(returning: .connectionLost(error))
        }
    }
}
