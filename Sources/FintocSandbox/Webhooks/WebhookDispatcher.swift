import AsyncHTTPClient
import Fintoc
import Foundation
import Logging
import ServiceLifecycle

/// Delivers every emitted event to every subscribed endpoint, retrying failures on the
/// configured schedule, applying the faults in force and logging each attempt in the store.
///
/// Each endpoint has a lane: first attempts leave in the order the events happened (so a
/// receiver sees `payment_intent.succeeded` before `checkout_session.finished` unless the
/// shuffle fault is on), while retries wait on their own and never hold the lane up, as
/// Fintoc's deliveries are at least once and unordered once retries begin.
public struct WebhookDispatcher: Service {
    let store: SandboxStore
    let schedule: [TimeInterval]
    let poster: WebhookPoster
    let logger: Logger

    public init(store: SandboxStore, configuration: SandboxConfiguration, client: HTTPClient, logger: Logger) {
        self.store = store
        self.schedule = configuration.retrySchedule
        self.poster = WebhookPoster(client: client, timeout: configuration.webhookTimeout)
        self.logger = logger
    }

    struct Job: Sendable {
        var event: Event
        var body: Data
        var endpointID: String
        var copy: Int
    }

    public func run() async {
        await withDiscardingTaskGroup { group in
            var lanes: [String: AsyncStream<Job>.Continuation] = [:]
            for await batch in store.eventBatches.cancelOnGracefulShutdown() {
                let faults = await store.faults
                let events = faults.shuffle ? Self.reordered(batch.events) : batch.events
                for event in events {
                    let body = Rendering.data(event)
                    for target in await store.deliveryTargets(for: event.type.rawValue, onlyID: batch.onlyEndpointID) {
                        let lane: AsyncStream<Job>.Continuation
                        if let existing = lanes[target.id] {
                            lane = existing
                        } else {
                            let (stream, continuation) = AsyncStream.makeStream(of: Job.self)
                            lanes[target.id] = continuation
                            lane = continuation
                            group.addTask { await runLane(stream) }
                        }
                        for copy in 1...max(1, faults.duplicate) {
                            lane.yield(Job(event: event, body: body, endpointID: target.id, copy: copy))
                        }
                    }
                }
            }
            for lane in lanes.values { lane.finish() }
            group.cancelAll()
        }
        logger.debug("webhook dispatcher stopped")
    }

    /// First attempts in order; each failure starts its own retry chain beside the lane.
    private func runLane(_ jobs: AsyncStream<Job>) async {
        await withDiscardingTaskGroup { retries in
            for await job in jobs {
                if await attempt(job, number: 1) { continue }
                retries.addTask { await retry(job) }
            }
            retries.cancelAll()
        }
    }

    private func retry(_ job: Job) async {
        for (index, delay) in schedule.enumerated() {
            do {
                try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
            } catch {
                return
            }
            if await attempt(job, number: index + 2) { return }
        }
        logger.debug("webhook delivery gave up", metadata: ["event_id": "\(job.event.id)", "endpoint_id": "\(job.endpointID)"])
    }

    /// One attempt; true when the delivery is over (acknowledged, or its endpoint is gone).
    private func attempt(_ job: Job, number: Int) async -> Bool {
        guard let target = await store.currentTarget(endpointID: job.endpointID) else { return true }
        let faults = await store.faults
        if faults.delayMilliseconds > 0 {
            try? await Task.sleep(for: .milliseconds(faults.delayMilliseconds))
        }
        let now = Date()
        let nextRetry = number <= schedule.count ? now.addingTimeInterval(schedule[number - 1]) : nil
        var record = DeliveryRecord(
            id: SandboxID.delivery(), eventID: job.event.id, eventType: job.event.type.rawValue, endpointID: job.endpointID,
            url: target.url,
            attempt: number, copy: job.copy, statusCode: nil, error: nil, succeeded: false, signature: nil, attemptedAt: now,
            nextRetryAt: nil
        )
        if number <= faults.failFirst {
            record.error = "injected network failure (fail_first \(faults.failFirst))"
            record.nextRetryAt = nextRetry
            await store.record(record)
            return false
        }
        var timestamp = Int64(now.timeIntervalSince1970)
        if faults.staleSignature { timestamp -= Int64(faults.staleSeconds) }
        let secret = faults.wrongSecret ? "whsec_wrong_\(SandboxID.random(16))" : target.secret
        let result = await poster.post(body: job.body, to: target.url, secret: secret, timestamp: timestamp)
        record.statusCode = result.statusCode
        record.error = result.error ?? (result.succeeded ? nil : "receiver answered \(result.statusCode ?? 0)")
        record.succeeded = result.succeeded
        record.signature = result.signature
        record.nextRetryAt = result.succeeded ? nil : nextRetry
        await store.record(record)
        logger.trace(
            "webhook attempt",
            metadata: [
                "event_id": "\(job.event.id)", "endpoint_id": "\(job.endpointID)", "attempt": "\(number)",
                "status": "\(result.statusCode.map(String.init) ?? "none")",
            ]
        )
        return result.succeeded
    }

    /// A different order than the events happened in (a plain shuffle may keep it).
    static func reordered(_ events: [Event]) -> [Event] {
        guard events.count > 1 else { return events }
        var shuffled = events
        while shuffled.map(\.id) == events.map(\.id) { shuffled.shuffle() }
        return shuffled
    }
}

/// Expires sessions and intents past `expires_at` and settles pending test payments, on a
/// fixed interval, until the application shuts down.
public struct ExpirySweeper: Service {
    let store: SandboxStore
    let interval: TimeInterval

    public init(store: SandboxStore, interval: TimeInterval) {
        self.store = store
        self.interval = interval
    }

    public func run() async {
        // Ends quietly at shutdown: the sleep's cancellation is the signal, not a failure.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await store.sweep()
                try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            }
        }
    }
}
