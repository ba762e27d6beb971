import ArgumentParser

/// Benchmarks of Cobro's Swift side, one subcommand per part. Each prints one JSON object on
/// stdout so `scripts/bench` can merge the figures.
@main
struct CobroBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cobro-bench",
        abstract: "Measures Cobro's components on loopback and prints the figures as JSON.",
        subcommands: [AMQPBench.self, CheckoutsBench.self, WebhooksBench.self, EndToEndBench.self, WorkerBench.self]
    )
}
