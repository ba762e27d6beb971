import CobroTestSupport
import Testing

/// Every test that talks to the broker runs in this one serialized suite, because some of
/// them stop and restart the broker and would break any test running beside them.
@Suite("AMQP against a real RabbitMQ", .needsBroker, .tags(.broker), .serialized)
struct BrokerTests {}
