import Foundation
import Hummingbird
import PaymentsCore

/// The storefront API: `/v1/checkouts…` and `/v1/orders/{order_id}`.
struct CheckoutsController {
    let service: CheckoutService
    let maxBodyBytes: Int

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.post("checkouts", use: create)
        group.get("checkouts/{id}", use: show)
        group.post("checkouts/{id}/expire", use: expire)
        group.get("orders/{order_id}", use: order)
    }

    @Sendable func create(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: maxBodyBytes)
        let answer = try await service.create(
            body: Data(buffer: body), storefront: try context.requireStorefront(),
            idempotencyKey: request.headers[.init("Idempotency-Key")!], traceparent: Self.traceparent(request),
            now: Timestamp.truncatedToMilliseconds(Date())
        )
        return Self.json(answer)
    }

    @Sendable func expire(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        _ = try await request.body.collect(upTo: maxBodyBytes)
        let answer = try await service.expire(
            checkoutID: try context.parameters.require("id"), storefront: try context.requireStorefront(),
            idempotencyKey: request.headers[.init("Idempotency-Key")!], traceparent: Self.traceparent(request),
            now: Timestamp.truncatedToMilliseconds(Date())
        )
        return Self.json(answer)
    }

    @Sendable func show(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let body = try await service.checkoutView(try context.parameters.require("id"), storefront: try context.requireStorefront())
        return Self.json(.init(status: 200, body: body))
    }

    @Sendable func order(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let body = try await service.orderView(try context.parameters.require("order_id"), storefront: try context.requireStorefront())
        return Self.json(.init(status: 200, body: body))
    }

    static func json(_ answer: CheckoutService.Answer) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if answer.replayed { headers[.init("Idempotent-Replayed")!] = "true" }
        return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(data: answer.body)))
    }

    /// The caller's trace context when valid; otherwise a new trace starts here.
    static func traceparent(_ request: Request) -> String {
        if let value = request.headers[.init("traceparent")!], TraceContext.isValid(value) {
            // A later version may add fields; what the events carry is the version-00 form the
            // envelope schema states: same trace and parent ids, same flags.
            let parts = value.split(separator: "-")
            return "00-\(parts[1])-\(parts[2])-\(parts[3])"
        }
        return "00-\(RandomID.hex(count: 32))-\(RandomID.hex(count: 16))-01"
    }
}

extension GatewayRequestContext {
    func requireStorefront() throws -> Storefront {
        guard let storefront else {
            throw StorefrontAuthMiddleware.unauthorized("missing_api_key", "send Authorization: Bearer <storefront key>")
        }
        return storefront
    }
}
