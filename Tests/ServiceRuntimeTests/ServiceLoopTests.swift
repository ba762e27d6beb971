import AMQP
import Logging
import ServiceLifecycle
import ServiceRuntime
import Synchronization
import Testing

/// The loop every background service runs: rounds until graceful shutdown, idle waits a wake-up
/// cuts short, back-off after failures that only shutdown cuts short.
@Suite struct ServiceLoopTests {
    /// Runs `loop` as a service in a group and returns the group, to shut down when done.
    private static func running(_ loop: ServiceLoop, _ round: @escaping @Sendable () async throws -> ServiceLoop.Round) -> (
        ServiceGroup, Task<Void, any Error>
    ) {
        let service = LoopService(loop: loop, round: round)
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "loop-test")))
        let task = Task { try await group.run() }
        return (group, task)
    }

    private struct LoopService: Service {
        let loop: ServiceLoop
        let round: @Sendable () async throws -> ServiceLoop.Round
        func run() async throws { await loop.run(logger: Logger(label: "loop-test"), failure: "round failed", round) }
    }

    private final class Counter: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        @discardableResult func increment() -> Int {
            count.withLock {
                $0 += 1
                return $0
            }
        }
    }

    private static func eventually(_ condition: () -> Bool) async throws {
        // Generous: a loaded machine may not run the loop for seconds; no assertion depends on speed.
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    }

    @Test func anIdleLoopWakesOnTheSignalNotOnlyOnItsTimeout() async throws {
        let loop = ServiceLoop(backoff: Backoff())
        let rounds = Counter()
        let (group, task) = Self.running(loop) {
            rounds.increment()
            return .idle(timeout: .seconds(60))
        }
        try await Self.eventually { rounds.value == 1 }
        loop.wake.notify()
        try await Self.eventually { rounds.value == 2 }
        #expect(rounds.value == 2)
        await group.triggerGracefulShutdown()
        try await task.value
    }

    @Test func aFailedRoundBacksOffAndNewWorkDoesNotCutThePauseShort() async throws {
        // A pause drawn below a day: it ends within the test only with a negligible chance.
        let loop = ServiceLoop(backoff: Backoff(base: .seconds(86_400), cap: .seconds(86_400)))
        let rounds = Counter()
        let (group, task) = Self.running(loop) {
            rounds.increment()
            return .failed
        }
        try await Self.eventually { rounds.value >= 1 }
        for _ in 0..<20 {
            loop.wake.notify()
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(rounds.value == 1)
        await group.triggerGracefulShutdown()
        try await task.value
    }

    @Test func aThrowingRoundCountsAsFailedAndTheLoopGoesOn() async throws {
        struct Broken: Error {}
        let loop = ServiceLoop(backoff: Backoff(base: .milliseconds(1), cap: .milliseconds(2)))
        let rounds = Counter()
        let (group, task) = Self.running(loop) {
            let count = rounds.increment()
            if count < 3 { throw Broken() }
            return .idle(timeout: .seconds(60))
        }
        try await Self.eventually { rounds.value == 3 }
        #expect(rounds.value == 3)
        await group.triggerGracefulShutdown()
        try await task.value
    }

    @Test func shutdownEndsALongPauseAndRunsTheShutdownHook() async throws {
        let loop = ServiceLoop(backoff: Backoff(base: .seconds(60), cap: .seconds(60)))
        let hooked = Counter()
        let service = HookedService(loop: loop, hooked: hooked)
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "loop-test")))
        let task = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await task.value
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(hooked.value == 1)
        #expect(loop.isStopping)
    }

    private struct HookedService: Service {
        let loop: ServiceLoop
        let hooked: Counter
        func run() async throws {
            await loop.run(logger: Logger(label: "loop-test"), failure: "round failed", onShutdown: { hooked.increment() }) {
                .failed
            }
        }
    }
}
