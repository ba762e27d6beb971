import Fintoc
import FintocSandbox
import Foundation
import Testing

/// `fintoc-sandbox trigger`: every supported type builds an event in Fintoc's shapes, and the
/// poster signs it so the verifier accepts it.
@Suite struct TriggerTests {
    @Test(arguments: SampleEvents.supportedTypes)
    func sampleEventsHaveFintocsShape(type: String) throws {
        let event = try #require(SampleEvents.make(type: type))
        let decoded = try FintocJSON.decoder().decode(Event.self, from: SampleEvents.body(of: event))
        #expect(decoded.type.rawValue == type)
        #expect(decoded.id.hasPrefix("evt_"))
        #expect(decoded.mode == .test)
        switch decoded.type.objectKind {
        case "payment_intent":
            let intent = try #require(try decoded.paymentIntent())
            #expect(intent.status.rawValue == String(type.dropFirst("payment_intent.".count)))
        case "checkout_session":
            let session = try #require(try decoded.checkoutSession())
            if type == "checkout_session.finished" {
                #expect(session.paymentResource?.paymentIntent?.status == .succeeded)
            } else {
                #expect(session.status == .expired)
            }
        default:
            #expect(try decoded.refund() != nil)
        }
    }

    @Test func unknownTypesAreRefused() {
        #expect(SampleEvents.make(type: "charge.succeeded") == nil)
    }

    @Test func thePosterSignsWhatItSends() async throws {
        let receiver = WebhookReceiver()
        let client = WebhookPoster.makeClient()
        try await receiver.run { url in
            let event = try #require(SampleEvents.make(type: "payment_intent.succeeded"))
            let result = await WebhookPoster(client: client, timeout: 2).post(
                body: SampleEvents.body(of: event), to: url, secret: "whsec_cli", timestamp: Int64(Date().timeIntervalSince1970))
            #expect(result.statusCode == 200)
            #expect(throws: Never.self) {
                try WebhookVerifier(secrets: ["whsec_cli"]).verify(body: receiver.received[0].body, header: receiver.received[0].signature)
            }
            let refused = await WebhookPoster(client: client, timeout: 0.5).post(
                body: Data(), to: "http://127.0.0.1:1/nothing", secret: "x", timestamp: 0)
            #expect(!refused.succeeded)
            #expect(refused.error != nil)
        }
        try await client.shutdown()
    }

    /// Fintoc counts only a 2xx as delivered; a redirect is a failed attempt, never followed.
    @Test func aRedirectIsAFailedDeliveryNotFollowed() async throws {
        let receiver = WebhookReceiver(respond: { _ in .found })
        let client = WebhookPoster.makeClient()
        try await receiver.run { url in
            let result = await WebhookPoster(client: client, timeout: 2).post(
                body: Data("{}".utf8), to: url, secret: "whsec_cli", timestamp: 0)
            #expect(result.statusCode == 302)
            #expect(!result.succeeded)
            #expect(receiver.received.count == 1, "the POST was sent once and the redirect not followed")
        }
        try await client.shutdown()
    }
}
