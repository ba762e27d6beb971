#!/usr/bin/env python3
"""A real SMTP server for the worker's tests (aiosmtpd), started and stopped by the test.

Every accepted message is written to DIR as <n>.eml (the bytes as received). Modes: plain
SMTP, STARTTLS (offered, and required before AUTH) or implicit TLS (smtps). With --user and
--password, AUTH PLAIN/LOGIN is required before MAIL FROM. Writes DIR/ready once listening and
runs until SIGTERM.
"""

import argparse
import warnings
import asyncio
import itertools
import os
import signal
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        number = next(self.counter)
        path = os.path.join(self.directory, f"{number:06d}.eml")
        with open(path + ".tmp", "wb") as file:
            file.write(envelope.original_content or envelope.content)
        with open(path + ".rcpt", "w") as file:
            file.write(",".join(envelope.rcpt_tos) + "\n" + envelope.mail_from + "\n")
        os.rename(path + ".tmp", path)
        return "250 OK stored"


def main():
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--mode", choices=["plain", "starttls", "smtps"], default="plain")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user", help="require AUTH as this user, with the password in $SMTP_TEST_PASSWORD")
    args = parser.parse_args()
    args.password = os.environ.get("SMTP_TEST_PASSWORD")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password
        return AuthResult(success=ok, handled=False)

    context = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    options = {}
    if args.user:
        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.mode == "starttls")  # implicit TLS is invisible to aiosmtpd
    if args.mode == "starttls":
        options.update(tls_context=context, require_starttls=True)
    if args.mode == "smtps":
        options.update(ssl_context=context)
    controller = Controller(Handler(args.dir), hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    with open(os.path.join(args.dir, "ready"), "w") as file:
        file.write("ready\n")
    # Exit at once on SIGTERM: nothing to flush (every message is already a file), and stopping the
    # controller's thread cleanly can block.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
