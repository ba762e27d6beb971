#!/usr/bin/env python3
"""The pika baseline for scripts/bench: the same work as `cobro-bench amqp`.

Persistent, mandatory publishes with publisher confirms, pipelined up to a window of
unconfirmed messages (pika's asynchronous SelectConnection), at each window; then consume and
ack the last queue with the same prefetch. Every loop is bounded by a count and a time limit.
Prints one JSON object on stdout.
"""
import argparse
import collections
import json
import os
import sys
import time
import uuid

import pika


class ConfirmedPublisher:
    """Keeps `window` unconfirmed publishes in flight until `target` are confirmed or time is up."""

    def __init__(self, url, queue, window, target, body, seconds, durable_args):
        self.url, self.queue, self.window, self.target = url, queue, window, target
        self.body, self.seconds, self.durable_args = body, seconds, durable_args
        self.sent = 0
        self.acked = 0
        self.failed = 0
        self.in_flight = collections.deque()  # delivery tags in publish order
        self.settled = set()  # tags settled out of order (single acks)
        self.returned = 0
        self.started = None
        self.elapsed = None
        self.connection = None
        self.channel = None
        self.properties = pika.BasicProperties(delivery_mode=2, content_type="application/octet-stream")

    def run(self):
        self.connection = pika.SelectConnection(pika.URLParameters(self.url), on_open_callback=self._on_open,
                                                on_open_error_callback=self._on_error)
        self.connection.ioloop.start()
        return self.acked, self.elapsed

    def _on_error(self, _connection, error):
        print(f"pika: cannot connect: {error}", file=sys.stderr)
        self.connection.ioloop.stop()

    def _on_open(self, connection):
        connection.channel(on_open_callback=self._on_channel)

    def _on_channel(self, channel):
        self.channel = channel
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(self._on_confirm, callback=lambda _f: self._declare())

    def _declare(self):
        self.channel.queue_declare(self.queue, durable=True, arguments=self.durable_args, callback=self._start)

    def _start(self, _frame):
        self.started = time.monotonic()
        self.connection.ioloop.call_later(self.seconds, self._finish)
        self._fill()

    def _fill(self):
        while len(self.in_flight) - len(self.settled) < self.window and self.sent < self.target and self.elapsed is None:
            self.sent += 1
            self.channel.basic_publish("", self.queue, self.body,
                                       pika.BasicProperties(delivery_mode=2, message_id=f"m{self.sent}"),
                                       mandatory=True)
            self.in_flight.append(self.sent)

    def _on_return(self, _channel, _method, _properties, _body):
        self.returned += 1

    def _on_confirm(self, frame):
        method = frame.method
        tag = method.delivery_tag
        ok = isinstance(method, pika.spec.Basic.Ack)
        if method.multiple:
            while self.in_flight and self.in_flight[0] <= tag:
                head = self.in_flight.popleft()
                if head in self.settled:
                    self.settled.discard(head)
                else:
                    self._count(ok)
        else:
            self._count(ok)
            if self.in_flight and self.in_flight[0] == tag:
                self.in_flight.popleft()
                while self.in_flight and self.in_flight[0] in self.settled:
                    self.settled.discard(self.in_flight.popleft())
            else:
                self.settled.add(tag)
        if self.acked + self.failed >= self.target:
            self._finish()
        else:
            self._fill()

    def _count(self, ok):
        if ok:
            self.acked += 1
        else:
            self.failed += 1

    def _finish(self):
        if self.elapsed is not None:
            return
        self.elapsed = time.monotonic() - self.started
        self.connection.close()
        self.connection.ioloop.stop()


def consume(url, queue, target, prefetch, seconds):
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=prefetch)
    state = {"count": 0}
    started = time.monotonic()

    def on_message(ch, method, _properties, _body):
        ch.basic_ack(method.delivery_tag)
        state["count"] += 1
        if state["count"] >= target:
            ch.stop_consuming()

    channel.basic_consume(queue, on_message)
    connection.call_later(seconds, channel.stop_consuming)
    if target > 0:
        channel.start_consuming()
    elapsed = time.monotonic() - started
    channel.queue_delete(queue)
    connection.close()
    return state["count"], elapsed


def main():
    parser = argparse.ArgumentParser(
        description=__doc__,
        epilog="The broker is $AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/%%2F), never an argument: "
        "its password would show in ps.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--windows", default="1,64,512")
    parser.add_argument("--count", type=int, default=50000, help="messages per window (window 1 uses a tenth)")
    parser.add_argument("--seconds", type=float, default=15.0, help="time limit per measurement")
    parser.add_argument("--body-size", type=int, default=256)
    parser.add_argument("--prefetch", type=int, default=256)
    parser.add_argument("--queue-type", default="quorum", choices=["classic", "quorum"])
    args = parser.parse_args()
    args.url = os.environ.get("AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672/%2F"

    body = b"x" * args.body_size
    queue_args = {"x-queue-type": "quorum"} if args.queue_type == "quorum" else None
    run_id = uuid.uuid4().hex[:8]
    rates = {}
    cpu = {}
    last_queue, last_published = None, 0
    for window in [int(w) for w in args.windows.split(",")]:
        queue = f"bench.pika.{run_id}.w{window}"
        target = max(1, args.count // 10) if window == 1 else args.count
        cpu_before = time.process_time()
        acked, elapsed = ConfirmedPublisher(args.url, queue, window, target, body, args.seconds, queue_args).run()
        cpu[f"w{window}"] = round((time.process_time() - cpu_before) * 1e6 / max(acked, 1), 1)
        if elapsed is None:
            sys.exit(1)
        rates[f"w{window}"] = round(acked / elapsed)
        print(f"pika publish window {window}: {acked} confirmed in {elapsed:.2f} s = {acked / elapsed:.0f}/s",
              file=sys.stderr)
        if last_queue:
            cleanup = pika.BlockingConnection(pika.URLParameters(args.url))
            cleanup.channel().queue_delete(last_queue)
            cleanup.close()
        last_queue, last_published = queue, acked

    cpu_before = time.process_time()
    consumed, elapsed = consume(args.url, last_queue, last_published, args.prefetch, args.seconds)
    consume_cpu = round((time.process_time() - cpu_before) * 1e6 / max(consumed, 1), 1)
    print(f"pika consume+ack: {consumed} in {elapsed:.2f} s = {consumed / elapsed:.0f}/s", file=sys.stderr)
    print(json.dumps({
        "client": f"pika {pika.__version__}",
        "queue_type": args.queue_type,
        "body_bytes": args.body_size,
        "prefetch": args.prefetch,
        "publish_confirmed_per_s": rates,
        "consume_ack_per_s": round(consumed / elapsed),
        "consume_messages": consumed,
        "publish_cpu_us_per_msg": cpu,
        "consume_cpu_us_per_msg": consume_cpu,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
