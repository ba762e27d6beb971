#include "cobro_smtp.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *data;
    size_t length;
    size_t offset;
} upload_cursor;

static size_t read_message(char *buffer, size_t size, size_t count, void *context) {
    upload_cursor *cursor = context;
    size_t room = size * count;
    size_t left = cursor->length - cursor->offset;
    size_t n = left < room ? left : room;
    memcpy(buffer, cursor->data + cursor->offset, n);
    cursor->offset += n;
    return n;
}

void cobro_smtp_global_init(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int cobro_smtp_send(const cobro_smtp_request *request, char *error, size_t error_size, long *response_code) {
    char curl_error[CURL_ERROR_SIZE];
    curl_error[0] = '\0';
    if (error_size > 0) error[0] = '\0';
    *response_code = 0;

    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(error, error_size, "libcurl could not start a session");
        return CURLE_FAILED_INIT;
    }
    struct curl_slist *recipients = NULL;
    for (size_t i = 0; i < request->recipient_count; i++) {
        recipients = curl_slist_append(recipients, request->recipients[i]);
    }
    char from[1024];
    snprintf(from, sizeof from, "<%s>", request->mail_from);
    upload_cursor cursor = {request->message, request->message_length, 0};

    curl_easy_setopt(curl, CURLOPT_URL, request->url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, request->connect_timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, request->timeout_seconds);
    if (request->username != NULL) curl_easy_setopt(curl, CURLOPT_USERNAME, request->username);
    if (request->password != NULL) curl_easy_setopt(curl, CURLOPT_PASSWORD, request->password);
    switch (request->starttls) {
    case COBRO_SMTP_STARTTLS_REQUIRED: curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL); break;
    case COBRO_SMTP_STARTTLS_NEVER: curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_NONE); break;
    default: curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY); break;
    }
    if (request->ca_file != NULL) curl_easy_setopt(curl, CURLOPT_CAINFO, request->ca_file);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(curl, CURLOPT_READDATA, &cursor);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)request->message_length);

    CURLcode result = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, response_code);
    if (result != CURLE_OK) {
        snprintf(error, error_size, "%s%s%s", curl_easy_strerror(result), curl_error[0] ? ": " : "", curl_error);
    }
    curl_slist_free_all(recipients);
    curl_easy_cleanup(curl);
    return (int)result;
}
