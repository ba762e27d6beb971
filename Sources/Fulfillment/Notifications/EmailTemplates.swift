import Mustache

/// The customer emails as swift-mustache templates, one subject and one body per kind and
/// language. Plain text (the `TEXT` content type, so nothing is HTML-escaped); Spanish is the
/// default, English when the order says so.
///
/// Values from outside (names, Fintoc's `next_action` message) are inserted as text, never as
/// templates; the event contract has already kept them to one line without control characters,
/// and the message is base64 in the mail, so nothing in them can reach a header.
enum EmailTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in sources {
            // The templates are constants of this file; a parse error is a programming error
            // that the tests catch on first render.
            if let template = try? MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text) {
                library.register(template, named: name)
            }
        }
        return library
    }()

    static let sources: [String: String] = [
        "es.order_confirmed.subject": "Pedido {{order_id}} confirmado",
        "en.order_confirmed.subject": "Order {{order_id}} confirmed",
        "es.order_backordered.subject": "Pedido {{order_id}}: pago recibido, productos pendientes de stock",
        "en.order_backordered.subject": "Order {{order_id}}: payment received, items on backorder",
        "es.payment_failed.subject": "No pudimos completar el pago del pedido {{order_id}}",
        "en.payment_failed.subject": "We could not complete the payment for order {{order_id}}",
        "es.payment_awaiting.subject": "Pedido {{order_id}}: esperando la confirmación de tu pago",
        "en.payment_awaiting.subject": "Order {{order_id}}: waiting for your payment to be confirmed",

        "es.order_confirmed.body": """
        Hola{{#has_name}} {{name}}{{/has_name}}:

        Recibimos tu pago y confirmamos tu pedido {{order_id}}.

        {{#lines}}
        - {{quantity}} x {{name}} ({{unit_price}} c/u): {{line_total}}
        {{/lines}}

        Total: {{total}}
        Referencia de pago: {{payment_reference}}

        Gracias por tu compra.

        """,
        "en.order_confirmed.body": """
        Hello{{#has_name}} {{name}}{{/has_name}},

        We received your payment and your order {{order_id}} is confirmed.

        {{#lines}}
        - {{quantity}} x {{name}} ({{unit_price}} each): {{line_total}}
        {{/lines}}

        Total: {{total}}
        Payment reference: {{payment_reference}}

        Thank you for your purchase.

        """,
        "es.order_backordered.body": """
        Hola{{#has_name}} {{name}}{{/has_name}}:

        Recibimos tu pago del pedido {{order_id}}, pero no tenemos stock suficiente para
        enviarlo completo ahora. Lo despacharemos apenas repongamos:

        {{#shortfall}}
        - {{name}}: faltan {{missing}} de {{quantity}}
        {{/shortfall}}

        Tu pedido:
        {{#lines}}
        - {{quantity}} x {{name}} ({{unit_price}} c/u): {{line_total}}
        {{/lines}}

        Total pagado: {{total}}
        Referencia de pago: {{payment_reference}}

        Te escribiremos cuando salga. Disculpa la espera.

        """,
        "en.order_backordered.body": """
        Hello{{#has_name}} {{name}}{{/has_name}},

        We received your payment for order {{order_id}}, but we do not have enough stock to
        ship all of it now. It will ship as soon as we restock:

        {{#shortfall}}
        - {{name}}: {{missing}} of {{quantity}} missing
        {{/shortfall}}

        Your order:
        {{#lines}}
        - {{quantity}} x {{name}} ({{unit_price}} each): {{line_total}}
        {{/lines}}

        Total paid: {{total}}
        Payment reference: {{payment_reference}}

        We will write again when it ships. Sorry for the wait.

        """,
        "es.payment_failed.body": """
        Hola{{#has_name}} {{name}}{{/has_name}}:

        El pago de tu pedido {{order_id}} por {{total}} no se completó{{#has_reason}} ({{reason}}){{/has_reason}}.
        No se hizo ningún cargo. Puedes volver a intentarlo desde la tienda cuando quieras.

        """,
        "en.payment_failed.body": """
        Hello{{#has_name}} {{name}}{{/has_name}},

        The payment for your order {{order_id}} of {{total}} did not go through{{#has_reason}} ({{reason}}){{/has_reason}}.
        You have not been charged. You can try again from the store at any time.

        """,
        "es.payment_awaiting.body": """
        Hola{{#has_name}} {{name}}{{/has_name}}:

        {{#action_required}}{{#has_action_message}}Para completar el pago de tu pedido {{order_id}} por {{total}} falta un paso:

            {{action_message}}

        {{/has_action_message}}{{^has_action_message}}Tu banco necesita que completes la autorización del pago de tu pedido {{order_id}} por {{total}}.
        {{/has_action_message}}{{/action_required}}{{^action_required}}Tu banco está procesando el pago de tu pedido {{order_id}} por {{total}}; puede tardar un poco.
        {{/action_required}}Te escribiremos apenas se confirme.

        """,
        "en.payment_awaiting.body": """
        Hello{{#has_name}} {{name}}{{/has_name}},

        {{#action_required}}{{#has_action_message}}One more step is needed to complete the payment for order {{order_id}} of {{total}}:

            {{action_message}}

        {{/has_action_message}}{{^has_action_message}}Your bank needs you to complete the authorisation of the payment for order {{order_id}} of {{total}}.
        {{/has_action_message}}{{/action_required}}{{^action_required}}Your bank is processing the payment for order {{order_id}} of {{total}}; it can take a while.
        {{/action_required}}We will write as soon as it is confirmed.

        """,
    ]
}
