/// Acknowledgement coalescing: a consumer that acks every delivery would otherwise cost the
/// broker one frame (and one socket read) per message.
extension ConnectionWorker {
    /// Single acks wait for the end of the command batch so a run of them costs one frame;
    /// anything else first flushes them, keeping the order the application settled in.
    func settle(_ settlement: Settlement, tag: UInt64, record: ConsumerRecord, _ core: ConnectionCore) throws {
        guard let channel = record.channel else { return }
        if case .ack(multiple: false) = settlement {
            if record.pendingAcks.isEmpty { consumersWithPendingAcks.append(record) }
            record.pendingAcks.append(tag)
            return
        }
        try flush(record, core)
        try core.settle(settlement, tag: tag, channel: channel)
        let multiple: Bool
        switch settlement {
        case .ack(let m), .nack(_, let m): multiple = m
        case .reject: multiple = false
        }
        if multiple {
            if tag >= record.lowestUnsettled {
                record.lowestUnsettled = tag + 1
                record.settledAhead = record.settledAhead.filter { $0 > tag }
            }
        } else {
            record.settledAhead.insert(tag)
        }
        advance(record)
    }

    private func advance(_ record: ConsumerRecord) {
        while record.settledAhead.remove(record.lowestUnsettled) != nil {
            record.lowestUnsettled += 1
        }
    }

    func flushAcks(_ core: ConnectionCore) throws {
        guard !consumersWithPendingAcks.isEmpty else { return }
        let records = consumersWithPendingAcks
        consumersWithPendingAcks.removeAll(keepingCapacity: true)
        for record in records { try flush(record, core) }
    }

    /// Sends the pending acks of one consumer: the contiguous run from the lowest unsettled tag
    /// as a single `multiple` ack (its last tag is one the broker still holds, as RabbitMQ
    /// requires), the rest one by one.
    func flush(_ record: ConsumerRecord, _ core: ConnectionCore) throws {
        guard !record.pendingAcks.isEmpty, let channel = record.channel else {
            record.pendingAcks.removeAll(keepingCapacity: true)
            return
        }
        record.pendingAcks.sort()
        var index = 0
        var cover: UInt64?
        while true {
            if index < record.pendingAcks.count && record.pendingAcks[index] < record.lowestUnsettled {
                index += 1
            } else if index < record.pendingAcks.count && record.pendingAcks[index] == record.lowestUnsettled {
                cover = record.lowestUnsettled
                record.lowestUnsettled += 1
                index += 1
            } else if record.settledAhead.remove(record.lowestUnsettled) != nil {
                record.lowestUnsettled += 1
            } else {
                break
            }
        }
        if let cover {
            try core.settle(.ack(multiple: true), tag: cover, channel: channel)
        }
        while index < record.pendingAcks.count {
            let tag = record.pendingAcks[index]
            index += 1
            try core.settle(.ack(multiple: false), tag: tag, channel: channel)
            record.settledAhead.insert(tag)
        }
        record.pendingAcks.removeAll(keepingCapacity: true)
    }
}
