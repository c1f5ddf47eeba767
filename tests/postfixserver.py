"""A real Postfix (Debian's) of its own, on 127.0.0.1 only, for tests.

``LoopbackPostfix`` writes a configuration into a fresh folder (its queue,
data and log beside it), listens on one loopback port, delivers nothing
locally, and sends each domain of ``routes`` to an SMTP server on
127.0.0.1 (aiosmtpd, in the test). It starts with ``postfix -c FOLDER
start`` and stops with ``postfix -c FOLDER stop``: the system's own Postfix,
if any, is left alone. Starting the master needs root; the folder is made
outside pytest's private temporary folders, which Postfix's unprivileged
daemons could not enter, and removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

#: Every service is unchrooted (the folder is not a chroot); no TLS, no local delivery.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {folder}/spool
data_directory = {folder}/data
maillog_file = {folder}/maillog
maillog_file_prefixes = {folder}
mail_owner = postfix
myhostname = mta.digest.test
mydomain = digest.test
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, reject
transport_maps = inline:{{ {routes} }}
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtputf8_enable = no
biff = no
delay_warning_time = 0
"""


class LoopbackPostfix:
    """Postfix on 127.0.0.1:``port``, relaying each domain of ``routes`` to 127.0.0.1:PORT."""

    def __init__(self, postfix: str, port: int, routes: dict[str, int]) -> None:
        self.postfix = postfix
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="digest-postfix-"))
        self.folder.chmod(0o755)
        (self.folder / "etc").mkdir()
        (self.folder / "spool").mkdir()
        (self.folder / "data").mkdir()
        shutil.chown(self.folder / "data", "postfix")
        routed = ", ".join(f"{domain}=smtp:[127.0.0.1]:{to}" for domain, to in routes.items())
        (self.folder / "etc" / "master.cf").write_text(MASTER_CF.format(port=port))
        (self.folder / "etc" / "main.cf").write_text(MAIN_CF.format(folder=self.folder, routes=routed))

    @property
    def log(self) -> str:
        path = self.folder / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def _postfix(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.postfix, "-c", str(self.folder / "etc"), command],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def __enter__(self) -> LoopbackPostfix:
        started = self._postfix("start")
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        self._stop()
        raise RuntimeError(f"Postfix did not start: {started.stdout}{started.stderr}{self.log}")

    def _stop(self) -> None:
        self._postfix("stop")
        pid_file = self.folder / "spool" / "pid" / "master.pid"
        for _ in range(100):
            try:
                os.kill(int(pid_file.read_text().split()[0]), 0)
            except (OSError, ValueError, IndexError):
                break
            time.sleep(0.1)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()
