// What Swift cannot call or name directly in librabbitmq 0.11: the variadic login, method ids
// that are cast macros, and the Linux wake-up primitive the connection thread polls beside its
// socket.
#ifndef COBRO_CRABBITMQ_SHIM_H
#define COBRO_CRABBITMQ_SHIM_H

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

// amqp_login_with_properties is variadic; PLAIN takes the user and the password.
static inline amqp_rpc_reply_t cobro_login_plain(amqp_connection_state_t state,
                                                 char const *vhost, int channel_max,
                                                 int frame_max, int heartbeat,
                                                 amqp_table_t const *properties,
                                                 char const *user, char const *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat,
                                      properties, AMQP_SASL_METHOD_PLAIN, user, password);
}

// Method ids are `((amqp_method_number_t)0x...)` macros, which Swift does not import.
static const amqp_method_number_t cobro_connection_close_method = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t cobro_connection_close_ok_method = AMQP_CONNECTION_CLOSE_OK_METHOD;
static const amqp_method_number_t cobro_connection_blocked_method = AMQP_CONNECTION_BLOCKED_METHOD;
static const amqp_method_number_t cobro_connection_unblocked_method = AMQP_CONNECTION_UNBLOCKED_METHOD;
static const amqp_method_number_t cobro_channel_close_method = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t cobro_channel_close_ok_method = AMQP_CHANNEL_CLOSE_OK_METHOD;
static const amqp_method_number_t cobro_basic_ack_method = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t cobro_basic_nack_method = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t cobro_basic_return_method = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t cobro_basic_deliver_method = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t cobro_basic_cancel_method = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t cobro_basic_cancel_ok_method = AMQP_BASIC_CANCEL_OK_METHOD;

// A non-blocking eventfd lets async callers wake the connection thread out of poll().
static inline int cobro_wakeup_open(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static inline void cobro_wakeup_signal(int fd) {
    uint64_t one = 1;
    ssize_t ignored = write(fd, &one, sizeof one);
    (void)ignored;
}

static inline void cobro_wakeup_drain(int fd) {
    uint64_t value;
    ssize_t ignored = read(fd, &value, sizeof value);
    (void)ignored;
}

// Waits until the socket is readable, the wake-up fd is signalled, or the timeout passes.
// Returns a bit set: 1 = socket readable (or in error), 2 = woken up; 0 on timeout, -1 on error.
static inline int cobro_wait(int socket_fd, int wakeup_fd, int timeout_ms) {
    struct pollfd fds[2];
    int count = 0;
    int socket_index = -1;
    if (socket_fd >= 0) {
        fds[count].fd = socket_fd;
        fds[count].events = POLLIN;
        fds[count].revents = 0;
        socket_index = count++;
    }
    fds[count].fd = wakeup_fd;
    fds[count].events = POLLIN;
    fds[count].revents = 0;
    int wakeup_index = count++;
    int rc = poll(fds, (nfds_t)count, timeout_ms);
    if (rc <= 0) {
        return rc;
    }
    int result = 0;
    if (socket_index >= 0 && fds[socket_index].revents != 0) {
        result |= 1;
    }
    if (fds[wakeup_index].revents != 0) {
        result |= 2;
    }
    return result;
}

#endif
