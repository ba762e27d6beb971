import Foundation
import Hummingbird
import NIOCore
import PaymentsCore

/// Server-rendered pages for the customer's side: one layout, inline CSS, no external assets,
/// so the pages work offline; Spanish throughout (`lang="es"`), as Fintoc's own pages are.
enum HTML {
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    static func amount(_ minorUnits: Int64, currency: String) -> String {
        guard let currency = Currency(code: currency) else { return "\(minorUnits) \(currency)" }
        return Money(minorUnits: minorUnits, currency: currency).description
    }

    static func page(title: String, body: String, status: HTTPResponse.Status = .ok, script: String = "") -> Response {
        let html = """
            <!DOCTYPE html>
            <html lang="es">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width,initial-scale=1">
            <title>\(escape(title)) · Fintoc (modo de prueba)</title>
            <style>
            :root { --ink:#1d2433; --muted:#5b6475; --brand:#3a4ee0; --line:#e3e6ee; --bad:#c62828; --ok:#1b7f4b; }
            * { box-sizing: border-box; }
            body { margin:0; font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; background:#f3f5fa; color:var(--ink); }
            .bar { background:var(--ink); color:#fff; padding:10px 20px; font-size:14px; display:flex; justify-content:space-between; }
            .bar b { letter-spacing:.5px; } .tag { background:#f5b400; color:#222; border-radius:4px; padding:1px 6px; font-size:12px; font-weight:600; }
            main { max-width:460px; margin:32px auto; background:#fff; border:1px solid var(--line); border-radius:12px; padding:28px; box-shadow:0 4px 18px rgba(20,30,60,.06); }
            h1 { font-size:20px; margin:0 0 4px; } .muted { color:var(--muted); font-size:14px; }
            .amount { font-size:30px; font-weight:700; margin:14px 0 18px; }
            .option { display:flex; align-items:center; gap:10px; border:1px solid var(--line); border-radius:8px; padding:11px 12px; margin:8px 0; cursor:pointer; }
            .option:hover { border-color:var(--brand); }
            a.option { color:var(--ink); text-decoration:none; }
            .row { display:flex; gap:12px; } .row > div { flex:1; }
            label.field { display:block; font-size:14px; margin:12px 0 4px; color:var(--muted); }
            input[type=text], input[type=password], input[type=tel] { width:100%; padding:10px; border:1px solid var(--line); border-radius:8px; font-size:16px; }
            button { width:100%; margin-top:16px; padding:12px; border:0; border-radius:8px; background:var(--brand); color:#fff; font-size:16px; font-weight:600; cursor:pointer; }
            button.secondary { background:#fff; color:var(--muted); border:1px solid var(--line); font-weight:500; }
            .error { background:#fdecea; color:var(--bad); border-radius:8px; padding:10px 12px; margin:12px 0; font-size:14px; }
            .success { color:var(--ok); }
            table.lines { width:100%; border-collapse:collapse; font-size:14px; margin-bottom:20px; } table.lines td { padding:4px 0; border-bottom:1px solid var(--line); } table.lines td.r { text-align:right; }
            .hint { font-size:12px; color:var(--muted); margin-top:18px; border-top:1px dashed var(--line); padding-top:10px; }
            a { color:var(--brand); }
            </style>
            </head>
            <body>
            <div class="bar"><b>fintoc</b><span class="tag">SANDBOX · MODO DE PRUEBA</span></div>
            <main>
            \(body)
            </main>
            \(script)
            </body>
            </html>
            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(to location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// `application/x-www-form-urlencoded` fields of a form post.
    static func formFields(_ buffer: ByteBuffer) -> [String: String] {
        let text = String(buffer: buffer)
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}
