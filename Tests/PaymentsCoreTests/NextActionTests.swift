import Foundation
import PaymentsCore
import Testing

/// `next_action`: read leniently from Fintoc (what fits the contract is kept, nothing refuses the
/// fact), checked strictly in events (what a consumer reads is within the limits), and written as
/// the flat object Fintoc sends.
@Suite("next_action in payment.action_required")
struct NextActionTests {
    private func read(_ json: String) throws -> NextAction? {
        NextAction(reading: try JSONDecoder().decode([String: JSONValue].self, from: Data(json.utf8)))
    }

    @Test("encodes as one flat object, members it does not name beside type and message, and decodes back the same")
    func flatRoundTrip() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let action = NextAction(
            type: "approve_in_bank", message: "Ask a second representative.",
            other: ["approvals": .object(["required": .int(2)]), "ratio": .double(0.5)])
        let json = String(decoding: try encoder.encode(action), as: UTF8.self)
        #expect(json == #"{"approvals":{"required":2},"message":"Ask a second representative.","ratio":0.5,"type":"approve_in_bank"}"#)
        #expect(try JSONDecoder().decode(NextAction.self, from: Data(json.utf8)) == action)
        let bare = String(decoding: try encoder.encode(NextAction(type: "approve_in_bank")), as: UTF8.self)
        #expect(bare == #"{"type":"approve_in_bank"}"#, "no message member when there is none")
    }

    @Test("reading keeps what fits at each limit and drops what does not")
    func readingAtTheLimits() throws {
        let longest = String(repeating: "é", count: NextAction.maxMessageLength)
        #expect(try read(#"{"type": "a", "message": "\#(longest)"}"#)?.message == longest)
        #expect(try read(#"{"type": "a", "message": "\#(longest)x"}"#) == NextAction(type: "a"))
        #expect(try read(#"{"type": "\#(String(repeating: "t", count: NextAction.maxTypeLength))"}"#) != nil)
        #expect(try read(#"{"type": "\#(String(repeating: "t", count: NextAction.maxTypeLength + 1))"}"#) == nil)
        for type in ["", "_leading", "has space", "ñandú", "a\nb", "x<script>"] {
            #expect(NextAction(reading: ["type": .string(type)]) == nil, "\(type)")
        }
        #expect(NextAction(reading: ["type": .int(1)]) == nil)

        // Members past the limit (taken by name) are dropped; so are ones nested too deep.
        var many: [String: JSONValue] = ["type": .string("a"), "message": .string("m")]
        for index in 0..<NextAction.maxMembers { many["m\(index + 10)"] = .bool(true) }
        let kept = try #require(NextAction(reading: many))
        #expect(kept.other.count == NextAction.maxMembers - 2)
        #expect(kept.other["m25"] == .bool(true) && kept.other["m26"] == nil)
        let deepest: JSONValue = .array([.array([.array([.array([.int(1)])])])])
        #expect(NextAction(reading: ["type": .string("a"), "d": deepest])?.other["d"] == deepest)
        #expect(NextAction(reading: ["type": .string("a"), "d": .array([deepest])])?.other.isEmpty == true)
        #expect(
            NextAction(reading: ["type": .string("a"), String(repeating: "k", count: NextAction.maxKeyLength + 1): .null])?.other.isEmpty
                == true)
    }

    @Test("a message is made one line of text: breaks and tabs become spaces, control characters go")
    func messageIsOneLine() throws {
        #expect(
            try read(#"{"type": "a", "message": "  Approve\r\n\tat the bank\u0000.\u001b[31m  "}"#)?.message == "Approve at the bank.[31m")
        #expect(try read(#"{"type": "a", "message": "\n\u0007 \t"}"#)?.message == nil)
        #expect(try read(#"{"type": "a", "message": 42}"#) == NextAction(type: "a"))
    }

    @Test("whatever is read validates, even when the members only fit one by one")
    func readingAlwaysValidates() throws {
        // Each member is under the size limit alone; together they are not.
        var object: [String: JSONValue] = [
            "type": .string("a"), "message": .string(String(repeating: "m", count: NextAction.maxMessageLength)),
        ]
        for index in 0..<8 { object["f\(index)"] = .string(String(repeating: "\"", count: 500)) }
        let action = try #require(NextAction(reading: object))
        #expect(throws: Never.self) { try action.validate(at: "x") }
        #expect(action.message?.count == NextAction.maxMessageLength)
        let encoded = try JSONEncoder().encode(action)
        #expect(encoded.count <= NextAction.maxEncodedBytes)
    }

    @Test("validation names each problem under data.payment.next_action")
    func validationIssues() {
        let action = NextAction(
            type: "approve in bank", message: "line\nbreak",
            other: ["type": .null, "deep": .array([.array([.array([.array([.array([])])])])])]
        )
        do {
            try action.validate(at: "data.payment.next_action")
            Issue.record("expected issues")
        } catch {
            #expect(
                error.issues.map(\.path) == [
                    "data.payment.next_action.type", "data.payment.next_action.message",
                    "data.payment.next_action.deep", "data.payment.next_action.type",
                ])
            #expect(error.issues.map(\.code) == ["invalid_format", "invalid_format", "too_deep", "invalid_format"])
        }
        let large = NextAction(type: "a", other: ["blob": .string(String(repeating: "b", count: NextAction.maxEncodedBytes))])
        #expect(throws: ValidationError.self) { try large.validate(at: "") }
    }
}
