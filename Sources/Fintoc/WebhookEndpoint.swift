import Foundation

/// A webhook endpoint (`we_…`): where Fintoc posts events, and which ones.
public struct WebhookEndpoint: Sendable, Hashable, Codable, Identifiable {
    public struct Status: OpenEnum {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let enabled: Self = "enabled"
        public static let disabled: Self = "disabled"
        public static let known: [Self] = [.enabled, .disabled]
    }

    public var id: String
    public var object: String?
    public var mode: FintocMode?
    public var url: String
    public var enabledEvents: [String]
    public var status: Status?
    public var description: String?
    /// The signing secret (`whsec_…`); present only in the create response.
    public var secret: String?
    public var createdAt: Date?
    public var metadata: Metadata?

    public init(
        id: String, mode: FintocMode, url: String, enabledEvents: [String], status: Status, description: String?, secret: String?,
        createdAt: Date, metadata: Metadata = [:]
    ) {
        self.id = id
        self.object = "webhook_endpoint"
        self.mode = mode
        self.url = url
        self.enabledEvents = enabledEvents
        self.status = status
        self.description = description
        self.secret = secret
        self.createdAt = createdAt
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case id, object, mode, url, status, description, secret, metadata
        case enabledEvents = "enabled_events"
        case createdAt = "created_at"
    }
}

/// The body of `POST /v1/webhook_endpoints`, and of `PATCH …/{id}` where every field is optional.
public struct WebhookEndpointParameters: Sendable, Hashable, Codable {
    public var url: String?
    /// Event types, or `["*"]` for all.
    public var enabledEvents: [String]?
    public var description: String?
    public var disabled: Bool?
    public var metadata: Metadata?

    public init(
        url: String? = nil, enabledEvents: [String]? = nil, description: String? = nil, disabled: Bool? = nil, metadata: Metadata? = nil
    ) {
        self.url = url
        self.enabledEvents = enabledEvents
        self.description = description
        self.disabled = disabled
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case url, description, disabled, metadata
        case enabledEvents = "enabled_events"
    }
}
