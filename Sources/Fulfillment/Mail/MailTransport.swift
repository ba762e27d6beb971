import Foundation

/// Why a send failed: `transient` is tried again later with backoff, `permanent` (the server
/// refused the message for good) is not.
public enum MailError: Error, Sendable, Hashable, CustomStringConvertible {
    case transient(String)
    case permanent(String)

    public var description: String {
        switch self {
        case .transient(let reason): "transient: \(reason)"
        case .permanent(let reason): "permanent: \(reason)"
        }
    }
}

/// One email ready to go: envelope and the full message.
public struct OutgoingMail: Sendable {
    public var messageID: String
    public var from: String
    public var recipients: [String]
    public var message: Data
}

/// Hands emails to their destination.
public protocol MailTransport: Sendable {
    func send(_ mail: OutgoingMail) async throws(MailError)
    /// Whether sending the same email twice leaves two copies (SMTP) or one (a file named by
    /// its Message-ID). The sender records a non-idempotent send at once, the others in batches.
    var isIdempotent: Bool { get }
}

/// Writes each email as `<Message-ID>.eml` under a folder (the local stack's default, and what
/// a developer opens in a mail client). Writing the same email again replaces the file, so a
/// resend after a crash still leaves one email.
public struct FileMailTransport: MailTransport {
    public let directory: URL

    public init(directory: String) {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
    }

    public var isIdempotent: Bool { true }

    public func send(_ mail: OutgoingMail) async throws(MailError) {
        let name = mail.messageID.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
            .map { $0.isLetter || $0.isNumber || "._-@+".contains($0) ? String($0) : "_" }.joined()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try mail.message.write(to: directory.appendingPathComponent(name + ".eml"), options: .atomic)
        } catch {
            throw .transient("cannot write to \(directory.path): \(error.localizedDescription)")
        }
    }
}
