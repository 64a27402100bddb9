"""A real SMTP server for the mail tests (PyPI aiosmtpd): keeps every message it accepts as
<n>.eml in a directory, with <n>.tls saying whether it came over STARTTLS.

    python sink.py CERT KEY PORT OUT_DIR starttls|plain

`starttls` offers STARTTLS and refuses mail before it; `plain` never offers it (a relay a
client must refuse to use). Prints "ready" once listening; stops when stdin closes.
"""
import pathlib
import ssl
import sys

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, out):
        self.out = pathlib.Path(out)
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        (self.out / f"{self.n:04d}.eml").write_bytes(envelope.original_content or b"")
        (self.out / f"{self.n:04d}.tls").write_text("yes" if session.ssl else "no")
        return "250 OK"


def main():
    cert, key, port, out, mode = sys.argv[1:6]
    kwargs = {}
    if mode == "starttls":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        kwargs = {"tls_context": ctx, "require_starttls": True}
    controller = Controller(Keep(out), hostname="127.0.0.1", port=int(port), **kwargs)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
