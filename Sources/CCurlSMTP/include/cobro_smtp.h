#ifndef COBRO_SMTP_H
#define COBRO_SMTP_H

#include <stddef.h>

/// How a connection is secured: `smtps://` URLs always use implicit TLS; for `smtp://` this
/// says whether STARTTLS is required, tried when offered, or never used.
typedef enum {
    COBRO_SMTP_STARTTLS_OPPORTUNISTIC = 0,
    COBRO_SMTP_STARTTLS_REQUIRED = 1,
    COBRO_SMTP_STARTTLS_NEVER = 2,
} cobro_smtp_starttls;

/// One message to hand to an SMTP server. Every string is NUL-terminated; optional ones may be NULL.
typedef struct {
    /// `smtp://host:port` or `smtps://host:port` (no credentials: they are passed separately).
    const char *url;
    const char *username;
    const char *password;
    cobro_smtp_starttls starttls;
    /// PEM bundle of trusted CAs instead of the system's, e.g. for a private relay.
    const char *ca_file;
    /// Envelope sender, without angle brackets.
    const char *mail_from;
    const char *const *recipients;
    size_t recipient_count;
    /// The whole RFC 5322 message, CRLF line endings.
    const char *message;
    size_t message_length;
    long connect_timeout_seconds;
    long timeout_seconds;
} cobro_smtp_request;

/// Initialises libcurl once per process; call before any thread sends.
void cobro_smtp_global_init(void);

/// Sends one message synchronously (call from a thread that may block). Returns libcurl's
/// CURLcode (0 on success); on failure `error` holds a readable reason (never a credential) and
/// `response_code` the server's last SMTP reply code, 0 when none came.
int cobro_smtp_send(const cobro_smtp_request *request, char *error, size_t error_size, long *response_code);

#endif
