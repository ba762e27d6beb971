import CRabbitMQ
import Foundation
import Logging
import Synchronization

/// What async callers ask of the connection thread.
enum Command: Sendable {
    case publish(OutboundMessage, PublishCompletion)
    case declare(Topology, remember: Bool, CheckedContinuation<Void, any Error>)
    case queue(QueueOperation, CheckedContinuation<QueueOperationResult, any Error>)
    case consume(ConsumerSpec, AsyncThrowingStream<Delivery, any Error>.Continuation, CheckedContinuation<Void, any Error>)
    case cancel(consumerTag: String, CheckedContinuation<Void, Never>?)
    case settle(Settlement, tag: UInt64, channel: UInt16, epoch: UInt64)
    /// Without a continuation when the application dropped the connection without closing it.
    case close(CheckedContinuation<Void, Never>?)
}

enum QueueOperation: Sendable {
    case inspect(String)
    case purge(String)
    case deleteQueue(String)
    case deleteExchange(String)
}

enum QueueOperationResult: Sendable {
    case status(QueueStatus)
    case count(Int)
    case done
}

/// What a consumer asked for, kept so the consumer can be re-subscribed after a reconnection.
struct ConsumerSpec: Sendable {
    var queue: String
    var tag: String
    var prefetch: UInt16
    var exclusive: Bool
    var arguments: FieldTable
}

/// The part of a connection that async code touches: a lock-protected command queue and the
/// wake-up descriptor of the connection thread. Everything that holds C pointers lives on the
/// thread (`ConnectionWorker`), so this type is `Sendable` without any unchecked promise.
final class ConnectionDriver: Sendable {
    struct Shared {
        var commands: [Command] = []
        /// The thread is (about to be) blocked in poll and needs the eventfd to notice commands.
        var sleeping = false
        /// Bumped on every (re)connection; deliveries of an earlier epoch cannot be settled.
        var epoch: UInt64 = 0
        var connected = false
        /// Successful connections so far, the first included.
        var connections = 0
        /// The thread has ended; commands are refused.
        var finished = false
    }

    let shared = Mutex(Shared())
    let wakeup: Int32
    let configuration: AMQPConfiguration
    let logger: Logger

    init(configuration: AMQPConfiguration, logger: Logger) throws {
        let fd = cobro_wakeup_open()
        guard fd >= 0 else {
            throw AMQPError.socket(status: AMQP_STATUS_SOCKET_ERROR.rawValue, message: "cannot create an eventfd: errno \(errno)")
        }
        wakeup = fd
        self.configuration = configuration
        self.logger = logger
    }

    // Closed here rather than when the thread ends, so a late `submit` never signals a
    // descriptor number the process may have reused.
    deinit {
        close(wakeup)
    }

    /// Starts the dedicated thread; `connected` is resumed after the first connection attempt.
    func start(connected: CheckedContinuation<Void, any Error>) {
        let thread = Thread { [self] in
            let worker = ConnectionWorker(driver: self)
            worker.run(firstConnection: connected)
        }
        thread.name = "amqp:\(configuration.connectionName)"
        thread.start()
    }

    /// Hands a command to the thread; false when the connection is gone.
    func submit(_ command: Command) -> Bool {
        let (accepted, wake) = shared.withLock { state -> (Bool, Bool) in
            guard !state.finished else { return (false, false) }
            state.commands.append(command)
            let wake = state.sleeping
            state.sleeping = false
            return (true, wake)
        }
        if wake { cobro_wakeup_signal(wakeup) }
        return accepted
    }

    func settle(_ settlement: Settlement, tag: UInt64, channel: UInt16, epoch: UInt64) throws {
        let current = shared.withLock { $0.finished ? UInt64.max : $0.epoch }
        guard current == epoch else { throw AMQPError.staleDelivery(deliveryTag: tag) }
        guard submit(.settle(settlement, tag: tag, channel: channel, epoch: epoch)) else {
            throw AMQPError.staleDelivery(deliveryTag: tag)
        }
    }

    var isConnected: Bool { shared.withLock { $0.connected } }
    var connectionCount: Int { shared.withLock { $0.connections } }

    // MARK: Thread side

    /// Takes every pending command (thread only).
    func takeCommands(into buffer: inout [Command]) {
        shared.withLock { state in
            swap(&state.commands, &buffer)
        }
    }

    /// Blocks the thread until the socket is readable, a command arrives, or the timeout passes.
    func waitForWork(socket: Int32, timeoutMilliseconds: Int32) {
        let sleep = shared.withLock { state -> Bool in
            guard state.commands.isEmpty else { return false }
            state.sleeping = true
            return true
        }
        guard sleep else { return }
        let result = cobro_wait(socket, wakeup, timeoutMilliseconds)
        if result > 0 && result & 2 != 0 {
            cobro_wakeup_drain(wakeup)
        }
        shared.withLock { $0.sleeping = false }
    }
}
