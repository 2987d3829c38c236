#!/usr/bin/python3
"""A real SMTP server for the tests: aiosmtpd writing to a Maildir, optionally requiring AUTH
(login and password) and STARTTLS (certificate and key). Its command line has no AUTH options.

    smtp_server.py PORT MAILDIR [--auth USER:PASS] [--tls CERT KEY]
"""
import argparse
import ssl
import time

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("maildir")
ap.add_argument("--auth")
ap.add_argument("--tls", nargs=2)
args = ap.parse_args()

kwargs = {}
if args.auth:
    user, password = args.auth.split(":", 1)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        if ok:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")

    kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.tls))
if args.tls:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.tls[0], args.tls[1])
    kwargs.update(tls_context=ctx, require_starttls=True)

controller = Controller(Mailbox(args.maildir), hostname="127.0.0.1", port=args.port, **kwargs)
controller.start()
while True:
    time.sleep(3600)
