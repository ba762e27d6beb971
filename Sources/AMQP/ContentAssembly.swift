import CRabbitMQ
import Foundation

/// A message arriving in pieces: the method frame (deliver or return), then a header frame
/// with the properties and body size, then body frames until the size is reached.
struct ContentAssembly {
    enum Kind {
        case delivery(consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String)
        case returned(replyCode: UInt16, replyText: String, exchange: String, routingKey: String)
    }

    var kind: Kind
    var properties = BasicProperties(deliveryMode: nil)
    var expected = 0
    var body = Data()
    var headerSeen = false
}

extension ConnectionWorker {
    /// Routes one frame read from the socket. Frames of different channels interleave, so
    /// content is assembled per channel.
    func handle(_ frame: inout amqp_frame_t, _ core: ConnectionCore) throws {
        let channel = frame.channel
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_METHOD:
            try handleMethod(frame.payload.method, channel: channel, core)
        case AMQP_FRAME_HEADER:
            guard assemblies[channel] != nil, let decoded = frame.payload.properties.decoded else { return }
            let properties = CDecode.properties(decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee)
            let size = Int(frame.payload.properties.body_size)
            assemblies[channel]!.properties = properties
            assemblies[channel]!.expected = size
            assemblies[channel]!.headerSeen = true
            if size == 0 { complete(channel) }
        case AMQP_FRAME_BODY:
            guard assemblies[channel]?.headerSeen == true else { return }
            let fragment = frame.payload.body_fragment
            guard fragment.len > 0, let bytes = fragment.bytes else { return }
            let done = { (assembly: inout ContentAssembly) -> Bool in
                if assembly.body.isEmpty && fragment.len >= assembly.expected {
                    assembly.body = Data(bytes: bytes, count: fragment.len)
                } else {
                    if assembly.body.isEmpty { assembly.body.reserveCapacity(assembly.expected) }
                    assembly.body.append(bytes.assumingMemoryBound(to: UInt8.self), count: fragment.len)
                }
                return assembly.body.count >= assembly.expected
            }(&assemblies[channel]!)
            if done { complete(channel) }
        default:
            break
        }
    }

    private func handleMethod(_ method: amqp_method_t, channel: UInt16, _ core: ConnectionCore) throws {
        guard let decoded = method.decoded else { return }
        switch method.id {
        case cobro_basic_deliver_method:
            let deliver = decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            // One consumer per channel: its tag is already known, no need to decode it again.
            let consumerTag = channelConsumers[channel]?.spec.tag ?? CDecode.string(deliver.consumer_tag)
            assemblies[channel] = ContentAssembly(
                kind: .delivery(
                    consumerTag: consumerTag, deliveryTag: deliver.delivery_tag,
                    redelivered: deliver.redelivered != 0, exchange: CDecode.string(deliver.exchange),
                    routingKey: CDecode.string(deliver.routing_key)))
        case cobro_basic_ack_method where channel == Self.publishChannel:
            let ack = decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            publishes.ack(ack.delivery_tag, multiple: ack.multiple != 0)
        case cobro_basic_nack_method where channel == Self.publishChannel:
            let nack = decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            publishes.nack(nack.delivery_tag, multiple: nack.multiple != 0)
        case cobro_basic_return_method:
            let returned = decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            assemblies[channel] = ContentAssembly(
                kind: .returned(
                    replyCode: returned.reply_code, replyText: CDecode.string(returned.reply_text),
                    exchange: CDecode.string(returned.exchange), routingKey: CDecode.string(returned.routing_key)))
        case cobro_basic_cancel_method:
            let cancel = decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            brokerCancelled(tag: CDecode.string(cancel.consumer_tag), channel: channel)
        case cobro_channel_close_method:
            let close = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let error = AMQPError.channelClosed(
                replyCode: close.reply_code, replyText: CDecode.string(close.reply_text),
                classID: close.class_id, methodID: close.method_id)
            core.sendChannelCloseOk(channel)
            channelClosedByBroker(channel, error)
        case cobro_connection_close_method:
            let close = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            core.sendConnectionCloseOk()
            throw AMQPError.connectionClosed(replyCode: close.reply_code, replyText: CDecode.string(close.reply_text))
        case cobro_connection_blocked_method:
            logger.debug("AMQP connection blocked by the broker (resource alarm)")
        case cobro_connection_unblocked_method:
            logger.debug("AMQP connection unblocked")
        default:
            logger.trace("AMQP unexpected method", metadata: ["amqp.method": "\(method.id)", "amqp.channel": "\(channel)"])
        }
    }

    private func complete(_ channel: UInt16) {
        guard let assembly = assemblies.removeValue(forKey: channel) else { return }
        switch assembly.kind {
        case .delivery(let consumerTag, let deliveryTag, let redelivered, let exchange, let routingKey):
            guard let record = channelConsumers[channel] else { return }
            record.stream.yield(
                Delivery(
                    body: assembly.body, properties: assembly.properties, exchange: exchange, routingKey: routingKey,
                    redelivered: redelivered, deliveryTag: deliveryTag, consumerTag: consumerTag, channel: channel,
                    epoch: epoch, settler: driver))
        case .returned(let code, let text, let exchange, let routingKey):
            guard channel == Self.publishChannel else { return }
            publishes.returned(
                code: code, text: text, exchange: exchange, routingKey: routingKey,
                messageID: assembly.properties.messageID, body: assembly.body)
        }
    }

    /// The broker cancelled a consumer (its queue was deleted, or a quorum queue lost its
    /// leader for good). Policy: the consumer's sequence ends with `consumerCancelled` and is
    /// not re-subscribed, because the queue it named may no longer exist; the application
    /// decides whether to consume again.
    private func brokerCancelled(tag: String, channel: UInt16) {
        logger.debug("AMQP consumer cancelled by the broker", metadata: ["amqp.consumer": "\(tag)"])
        guard let record = consumers.removeValue(forKey: tag) else { return }
        channelConsumers[channel] = nil
        assemblies[channel] = nil
        record.channel = nil
        record.stream.finish(throwing: AMQPError.consumerCancelled(queue: record.spec.queue, consumerTag: tag))
        deferred.append(.closeChannel(channel))
    }

    private func channelClosedByBroker(_ channel: UInt16, _ error: AMQPError) {
        logger.debug("AMQP channel closed by the broker", metadata: ["amqp.channel": "\(channel)", "amqp.error": "\(error)"])
        assemblies[channel] = nil
        switch channel {
        case Self.publishChannel:
            publishChannelOpen = false
            publishes.failOutstanding(error)
            deferred.append(.reopenPublishChannel)
        case Self.controlChannel:
            deferred.append(.reopenControlChannel)
        default:
            guard let record = channelConsumers.removeValue(forKey: channel) else { return }
            record.channel = nil
            record.resetSettlement()
            // Policy: a consumer whose channel the broker closed (e.g. 406 for an ack of an
            // unknown tag) is subscribed again on a new channel; its unsettled deliveries come
            // back redelivered. Only if that fails does its sequence end, with the error.
            deferred.append(.resubscribe(record))
        }
    }
}
