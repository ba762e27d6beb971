import CCurlSMTP
import Dispatch
import Foundation

/// Sends over SMTP with libcurl (STARTTLS, implicit TLS, AUTH), one connection per email.
///
/// libcurl blocks, so each send runs on a dispatch queue of its own, never on Swift's
/// cooperative pool. The password goes to libcurl only; errors carry libcurl's reason and the
/// server's reply code, never a credential.
public struct SMTPTransport: MailTransport {
    public let settings: SMTPSettings
    public var connectTimeoutSeconds = 10
    public var timeoutSeconds = 60

    private static let initialised: Bool = {
        cobro_smtp_global_init()
        return true
    }()

    private static let queue = DispatchQueue(label: "cobro.smtp", attributes: .concurrent)

    public init(settings: SMTPSettings) {
        self.settings = settings
        _ = Self.initialised
    }

    public var isIdempotent: Bool { false }

    public func send(_ mail: OutgoingMail) async throws(MailError) {
        let settings = settings
        let connectTimeout = connectTimeoutSeconds
        let timeout = timeoutSeconds
        let result: Result<Void, MailError> = await withCheckedContinuation { continuation in
            Self.queue.async {
                continuation.resume(
                    returning: Self.sendBlocking(mail, settings: settings, connectTimeout: connectTimeout, timeout: timeout))
            }
        }
        try result.get()
    }

    private static func sendBlocking(_ mail: OutgoingMail, settings: SMTPSettings, connectTimeout: Int, timeout: Int) -> Result<
        Void, MailError
    > {
        var errorBuffer = [CChar](repeating: 0, count: 512)
        var responseCode = 0
        let recipients = mail.recipients.map { strdup($0) }
        defer { for recipient in recipients { free(recipient) } }
        let code: Int32 = mail.message.withUnsafeBytes { body in
            recipients.map { UnsafePointer($0) }.withUnsafeBufferPointer { recipientPointers in
                withOptionalCString(settings.username) { username in
                    withOptionalCString(settings.password) { password in
                        withOptionalCString(settings.caFile) { caFile in
                            settings.url.withCString { url in
                                mail.from.withCString { from in
                                    var request = cobro_smtp_request()
                                    request.url = url
                                    request.username = username
                                    request.password = password
                                    request.starttls =
                                        switch settings.starttls {
                                        case .required: COBRO_SMTP_STARTTLS_REQUIRED
                                        case .never: COBRO_SMTP_STARTTLS_NEVER
                                        case .opportunistic: COBRO_SMTP_STARTTLS_OPPORTUNISTIC
                                        }
                                    request.ca_file = caFile
                                    request.mail_from = from
                                    request.recipients = recipientPointers.baseAddress
                                    request.recipient_count = recipientPointers.count
                                    request.message = body.baseAddress?.assumingMemoryBound(to: CChar.self)
                                    request.message_length = body.count
                                    request.connect_timeout_seconds = connectTimeout
                                    request.timeout_seconds = timeout
                                    return errorBuffer.withUnsafeMutableBufferPointer { buffer in
                                        cobro_smtp_send(&request, buffer.baseAddress, buffer.count, &responseCode)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard code != 0 else { return .success(()) }
        let reason = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let described = responseCode > 0 ? "\(reason) (SMTP \(responseCode))" : reason
        // A 5xx refusal of the message or a recipient will not change by waiting; a refused
        // login (530/534/535/538) is configuration an operator can fix, so those are kept.
        let authentication: Set<Int> = [530, 534, 535, 538]
        if (500..<600).contains(responseCode), !authentication.contains(responseCode) {
            return .failure(.permanent(described))
        }
        return .failure(.transient(described))
    }
}

private func withOptionalCString<R>(_ value: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let value else { return body(nil) }
    return value.withCString { body($0) }
}
