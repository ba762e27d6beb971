import AMQP
import ArgumentParser
import Foundation
import Synchronization

/// Confirmed persistent publishing at several window sizes, then consume-and-ack, against the
/// broker at `AMQP_URL`. Every loop is bounded by a message count and by a time limit.
struct AMQPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amqp",
        abstract: "Persistent, mandatory, confirmed publishes per second per window, and consume+ack per second.",
        discussion:
            "The broker is AMQP_URL (or the file AMQP_URL_FILE names; default amqp://guest:guest@127.0.0.1:5672/), never an argument: its password would show in ps."
    )

    /// `AMQP_URL` (or its `_FILE`): the URL holds the broker's password.
    var url: String { get throws { try BenchSecrets.value(BenchSecrets.amqpURL) } }

    @Option(help: "Publish windows (unconfirmed messages in flight), comma-separated.")
    var windows = "1,64,512"

    @Option(help: "Messages to publish per window (window 1 uses a tenth).")
    var count = 50_000

    @Option(help: "Time limit per measurement, in seconds.")
    var seconds = 15.0

    @Option(help: "Message body size in bytes.")
    var bodySize = 256

    @Option(help: "Consumer prefetch for consume+ack.")
    var prefetch: UInt16 = 256

    @Option(help: "Queue type of the benchmark queues: classic or quorum.")
    var queueType = "quorum"

    @Flag(help: "Print only the JSON object.")
    var json = false

    func run() async throws {
        let windows = self.windows.split(separator: ",").compactMap { Int($0) }
        let body = Data(repeating: UInt8(ascii: "x"), count: bodySize)
        var publishRates: [String: Double] = [:]
        var publishCPU: [String: Double] = [:]
        var lastQueue = ""
        var lastPublished = 0
        let runID = UUID().uuidString.prefix(8).lowercased()
        for window in windows {
            var configuration = try AMQPConfiguration(url: try url, connectionName: "cobro-bench-publish-w\(window)")
            configuration.publishWindow = window
            let connection = try await AMQPConnection.connect(configuration)
            let queue = "bench.swift.\(runID).w\(window)"
            try await connection.declare(Topology(queues: [benchQueue(queue)]), remember: false)
            let target = window == 1 ? max(1, count / 10) : count
            let cpuBefore = processCPUSeconds()
            let (acked, elapsed) = await publish(connection, queue: queue, body: body, window: window, target: target)
            let rate = Double(acked) / elapsed
            publishRates["w\(window)"] = rate.rounded()
            publishCPU["w\(window)"] = microseconds(processCPUSeconds() - cpuBefore, per: acked)
            log("publish window \(window): \(acked) confirmed in \(String(format: "%.2f", elapsed)) s = \(Int(rate))/s")
            if !lastQueue.isEmpty { _ = try? await connection.deleteQueue(lastQueue) }
            lastQueue = queue
            lastPublished = acked
            await connection.close()
        }

        let connection = try await AMQPConnection.connect(try AMQPConfiguration(url: try url, connectionName: "cobro-bench-consume"))
        let cpuBefore = processCPUSeconds()
        let (consumed, elapsed) = try await consume(connection, queue: lastQueue, target: lastPublished)
        let consumeCPU = microseconds(processCPUSeconds() - cpuBefore, per: consumed)
        let consumeRate = Double(consumed) / elapsed
        log("consume+ack: \(consumed) in \(String(format: "%.2f", elapsed)) s = \(Int(consumeRate))/s")
        _ = try? await connection.deleteQueue(lastQueue)
        await connection.close()

        let result: [String: Any] = [
            "client": "swift-amqp (librabbitmq 0.11)",
            "queue_type": queueType,
            "body_bytes": bodySize,
            "prefetch": Int(prefetch),
            "publish_confirmed_per_s": publishRates,
            "consume_ack_per_s": consumeRate.rounded(),
            "consume_messages": consumed,
            "publish_cpu_us_per_msg": publishCPU,
            "consume_cpu_us_per_msg": consumeCPU,
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    private func benchQueue(_ name: String) -> Topology.Queue {
        queueType == "quorum" ? .quorum(name) : Topology.Queue(name: name, durable: true)
    }

    /// `window` publishers each publish one message at a time, so exactly `window` messages are
    /// unconfirmed at any moment, as in pika's pipelined publisher.
    private func publish(
        _ connection: AMQPConnection, queue: String, body: Data, window: Int,
        target: Int
    ) async -> (Int, Double) {
        let start = ContinuousClock.now
        let deadline = start + .seconds(seconds)
        let next = Counter()
        let acked = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<window {
                group.addTask {
                    var acked = 0
                    while ContinuousClock.now < deadline {
                        let index = next.increment()
                        guard index < target else { break }
                        let outcome = await connection.publish(
                            body, exchange: "", routingKey: queue,
                            properties: BasicProperties(deliveryMode: .persistent, messageID: "m\(index)"))
                        if outcome == .acked { acked += 1 }
                    }
                    return acked
                }
            }
            return await group.reduce(0, +)
        }
        return (acked, seconds(since: start))
    }

    private func consume(_ connection: AMQPConnection, queue: String, target: Int) async throws -> (Int, Double) {
        guard target > 0 else { return (0, 1) }
        let consumer = try await connection.consume(queue: queue, prefetch: prefetch)
        let start = ContinuousClock.now
        let deadline = start + .seconds(seconds)
        var consumed = 0
        for try await delivery in consumer {
            try delivery.ack()
            consumed += 1
            if consumed >= target || (consumed & 1023 == 0 && ContinuousClock.now >= deadline) { break }
        }
        let elapsed = seconds(since: start)
        await consumer.cancel()
        return (consumed, elapsed)
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// CPU time of this whole process (every thread), to compare what each client costs per
    /// message independently of how fast the broker is.
    private func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    private func microseconds(_ seconds: Double, per count: Int) -> Double {
        count > 0 ? (seconds * 1e6 / Double(count) * 10).rounded() / 10 : 0
    }

    private func log(_ line: String) {
        if !json { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }
}

/// Hands out message indexes to the publishing tasks.
final class Counter: Sendable {
    private let value = Mutex(0)

    func increment() -> Int {
        value.withLock { current in
            defer { current += 1 }
            return current
        }
    }
}
