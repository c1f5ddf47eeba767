"""A small IMAP4rev1 server over TLS on 127.0.0.1, enough for ``digest bounces imaps://``.

It speaks what imaplib needs to read a folder without changing it: the
greeting, CAPABILITY, LOGIN (one user and password), EXAMINE of its one
folder, UID SEARCH ALL, UID FETCH of ``BODY.PEEK[]`` or of the Message-ID
header (``BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]``) as a literal, and
LOGOUT. Anything else gets ``BAD``. ``fetched`` lists the UIDs whose whole message was sent, and
``commands`` every command received (to check that nothing wrote).
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from types import TracebackType
from typing import BinaryIO


class LoopbackImap:
    """The server, on a free port, as a context manager; ``messages`` are the folder's, UIDs from 1."""

    def __init__(
        self, context: ssl.SSLContext, user: str, password: str, folder: str, messages: list[bytes]
    ) -> None:
        self.user, self.password, self.folder = user, password, folder
        self.messages = messages
        self.fetched: list[int] = []
        self.commands: list[str] = []
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10

            def handle(self) -> None:
                owner.converse(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def get_request(self) -> tuple[socket.socket, object]:
                raw, address = self.socket.accept()
                return context.wrap_socket(raw, server_side=True), address

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def converse(self, rfile: BinaryIO, wfile: BinaryIO) -> None:
        wfile.write(b"* OK IMAP4rev1 test server ready\r\n")
        selected = logged_in = False
        while line := rfile.readline(65536):
            tag, _, rest = line.decode("utf-8").rstrip("\r\n").partition(" ")
            command = rest.split(" ")
            verb = command[0].upper()
            self.commands.append(" ".join(command[:2]).upper())
            arguments = [a.strip('"') for a in command[1:]]
            if verb == "CAPABILITY":
                wfile.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + f"{tag} OK done\r\n".encode())
            elif verb == "LOGIN":
                logged_in = arguments[:2] == [self.user, self.password]
                wfile.write(f"{tag} {'OK logged in' if logged_in else 'NO wrong password'}\r\n".encode())
            elif verb == "EXAMINE" and logged_in:
                selected = arguments[:1] == [self.folder]
                if selected:
                    wfile.write(f"* {len(self.messages)} EXISTS\r\n* FLAGS (\\Seen)\r\n".encode())
                    wfile.write(f"{tag} OK [READ-ONLY] examined\r\n".encode())
                else:
                    wfile.write(f"{tag} NO no such folder\r\n".encode())
            elif verb == "UID" and selected and arguments[:1] == ["SEARCH"]:
                uids = " ".join(str(n) for n in range(1, len(self.messages) + 1))
                wfile.write(f"* SEARCH {uids}\r\n{tag} OK searched\r\n".encode())
            elif (
                verb == "UID"
                and selected
                and arguments[:1] == ["FETCH"]
                and "HEADER.FIELDS (MESSAGE-ID)" in rest
            ):
                for uid in (int(n) for n in arguments[1].split(",")):
                    header = (
                        b"".join(
                            line + b"\r\n"
                            for line in self.messages[uid - 1].split(b"\n\n", 1)[0].split(b"\n")
                            if line.lower().startswith(b"message-id:")
                        )
                        + b"\r\n"
                    )
                    item = f"* {uid} FETCH (UID {uid} BODY[HEADER.FIELDS (MESSAGE-ID)] {{{len(header)}}}"
                    wfile.write(item.encode() + b"\r\n" + header + b")\r\n")
                wfile.write(f"{tag} OK fetched\r\n".encode())
            elif verb == "UID" and selected and arguments[:1] == ["FETCH"] and "BODY.PEEK[]" in rest:
                uid = int(arguments[1])
                body = self.messages[uid - 1]
                self.fetched.append(uid)
                wfile.write(f"* {uid} FETCH (UID {uid} BODY[] {{{len(body)}}}\r\n".encode() + body + b")\r\n")
                wfile.write(f"{tag} OK fetched\r\n".encode())
            elif verb == "LOGOUT":
                wfile.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
                return
            else:
                wfile.write(f"{tag} BAD not understood here\r\n".encode())

    def __enter__(self) -> LoopbackImap:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
