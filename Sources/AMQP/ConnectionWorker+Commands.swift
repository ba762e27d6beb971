import Logging

/// What the connection thread does with each command from async callers, connected or not.
extension ConnectionWorker {
    func execute(_ command: Command, _ core: ConnectionCore) throws {
        switch command {
        case .publish(let message, let completion):
            publishes.enqueue(message, completion)
        case .declare(let declared, let remember, let completion):
            do {
                try core.declare(declared, on: Self.controlChannel)
                if remember { topology = topology.merging(declared) }
                completion.resume()
            } catch let error as AMQPError where error.isChannelLevel {
                completion.resume(throwing: error)
                try core.openChannel(Self.controlChannel)
            } catch {
                completion.resume(throwing: error)
                throw error
            }
        case .queue(let operation, let completion):
            do {
                completion.resume(returning: try perform(operation, core))
            } catch let error as AMQPError where error.isChannelLevel {
                completion.resume(throwing: error)
                try core.openChannel(Self.controlChannel)
            } catch {
                completion.resume(throwing: error)
                throw error
            }
        case .consume(let spec, let stream, let completion):
            let record = ConsumerRecord(spec: spec, stream: stream)
            do {
                try subscribe(record, core)
                consumers[spec.tag] = record
                completion.resume()
            } catch let error as AMQPError where error.isChannelLevel {
                completion.resume(throwing: error)
            } catch {
                completion.resume(throwing: error)
                throw error
            }
        case .cancel(let tag, let completion):
            defer { completion?.resume() }
            guard let record = consumers.removeValue(forKey: tag) else { return }
            record.stream.finish()
            try flush(record, core)
            if let channel = record.channel {
                channelConsumers[channel] = nil
                assemblies[channel] = nil
                do {
                    try core.cancel(channel, tag: tag)
                    try core.closeChannel(channel)
                } catch let error as AMQPError where error.isChannelLevel {
                    logger.trace("AMQP cancel on a closed channel", metadata: ["amqp.error": "\(error)"])
                }
            }
        case .settle(let settlement, let tag, let channel, let epoch):
            guard epoch == self.epoch, let record = channelConsumers[channel] else { return }
            try settle(settlement, tag: tag, record: record, core)
        case .close(let completion):
            closeRequests.append(completion)
        }
    }

    func perform(_ operation: QueueOperation, _ core: ConnectionCore) throws -> QueueOperationResult {
        switch operation {
        case .inspect(let name): .status(try core.inspectQueue(name, on: Self.controlChannel))
        case .purge(let name): .count(try core.purgeQueue(name, on: Self.controlChannel))
        case .deleteQueue(let name): .count(try core.deleteQueue(name, on: Self.controlChannel))
        case .deleteExchange(let name):
            try {
                try core.deleteExchange(name, on: Self.controlChannel)
                return .done
            }()
        }
    }

    /// Answers a command while there is no connection: publishes are lost (the caller retries),
    /// requests fail, consumers are kept to be subscribed on the next connection.
    func executeDisconnected(_ command: Command, error: AMQPError) {
        switch command {
        case .publish(_, let completion):
            completion.resume(returning: .connectionLost(error))
        case .declare(_, _, let completion):
            completion.resume(throwing: error)
        case .queue(_, let completion):
            completion.resume(throwing: error)
        case .consume(let spec, let stream, let completion):
            if error == .notConnected {
                consumers[spec.tag] = ConsumerRecord(spec: spec, stream: stream)
                completion.resume()
            } else {
                stream.finish(throwing: error)
                completion.resume(throwing: error)
            }
        case .cancel(let tag, let completion):
            consumers.removeValue(forKey: tag)?.stream.finish()
            completion?.resume()
        case .settle:
            break
        case .close(let completion):
            // Always recorded, never answered here: the supervisor stops reconnecting once a
            // close is pending and `finish` answers it after the thread's work is done. Answering
            // now would let `close()` return while the connection comes back.
            closeRequests.append(completion)
        }
    }

    func subscribe(_ record: ConsumerRecord, _ core: ConnectionCore) throws {
        guard nextChannel < Self.maxChannel else {
            throw AMQPError.invalidConfiguration("no channel left for another consumer on this connection")
        }
        let channel = nextChannel
        nextChannel += 1
        try core.openChannel(channel)
        try core.qos(channel, prefetch: record.spec.prefetch)
        // Registered before basic.consume so deliveries that arrive with consume-ok find it.
        record.channel = channel
        record.resetSettlement()
        channelConsumers[channel] = record
        do {
            try core.consume(
                channel, queue: record.spec.queue, tag: record.spec.tag, exclusive: record.spec.exclusive,
                arguments: record.spec.arguments)
        } catch {
            channelConsumers[channel] = nil
            record.channel = nil
            throw error
        }
        logger.debug(
            "AMQP consumer subscribed",
            metadata: [
                "amqp.queue": "\(record.spec.queue)", "amqp.consumer": "\(record.spec.tag)", "amqp.channel": "\(channel)",
            ])
    }
}
