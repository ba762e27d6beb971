import Fintoc
import Foundation
import Hummingbird
import Logging
import NIOCore

/// `POST /webhooks/fintoc`: verify over the raw bytes, then take the event in; 200 only once it
/// is committed (docs/architecture.md rules 1 to 4).
struct WebhooksController {
    let verifier: WebhookVerifier
    let ingestor: WebhookIngestor
    let maxBodyBytes: Int
    let metrics: GatewayMetrics

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.post("webhooks/fintoc", use: receive)
    }

    @Sendable func receive(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            metrics.webhookRejected(reason: "too_large")
            throw APIError(
                .contentTooLarge, .invalidRequest, code: "body_too_large", message: "the webhook body is larger than \(maxBodyBytes) bytes")
        }
        let body = Data(buffer: buffer)
        do {
            _ = try verifier.verify(body: body, header: request.headers[.init(WebhookSigner.headerName)!])
        } catch {
            metrics.webhookRejected(reason: error.reason)
            context.logger.debug("webhook refused", metadata: ["reason": .string(error.reason)])
            throw APIError(
                .unauthorized, .authentication, code: "invalid_signature", message: error.description, param: WebhookSigner.headerName)
        }
        let event: NormalisedEvent
        do {
            event = try WebhookNormaliser.normalise(body)
        } catch {
            metrics.webhookRejected(reason: "bad_event")
            throw APIError(.badRequest, .invalidRequest, code: "invalid_event", message: error.description)
        }
        let outcome = try await ingestor.ingest(IngestItem(event: event, body: body, source: .webhook, receivedAt: Date()))
        metrics.webhookTakenIn(outcome: outcome.label, source: "webhook")
        context.logger.debug(
            "webhook taken in",
            metadata: ["event_id": .string(event.id), "event_type": .string(event.type), "outcome": .string(outcome.label)])
        return Self.answer(outcome)
    }

    static func answer(_ outcome: IngestOutcome) -> Response {
        let body = #"{"received":true,"outcome":"\#(outcome.label)"}"#
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
