"""A real IMAP server for tests: a private dovecot on 127.0.0.1, one user, maildir in a temp dir.

    server = DovecotServer().start()      # fails with DovecotUnavailable if there is no dovecot
    server.append(raw_bytes)              # -> its UID in INBOX
    server.uids("LeadFollow/Processed")   # UIDs in a folder, ascending
    server.stop()

Plain-text login, no TLS, nothing outside its temp dir (config, sockets, state, log, mail): it
runs next to a system dovecot, and several run at once. As root (CI) it runs as the Debian
package's unprivileged users (dovecot will neither log in as root nor hand mail to UID 0):
"dovenull" for logins, "dovecot" for its internal processes and the mail; otherwise all as the
current user. `renumber()` changes INBOX's UIDVALIDITY the way a server rebuilding its index does.
"""

import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from testkit.processes import free_port, wait_until

DOVECOT = os.environ.get("DOVECOT_PATH", "/usr/sbin/dovecot")
USER = "replies@leadfollow.test"
PASSWORD = "test-mailbox-password"


class DovecotUnavailable(RuntimeError):
    pass


def dovecot_available() -> bool:
    return os.access(DOVECOT, os.X_OK)


def _users() -> tuple[pwd.struct_passwd, str]:
    """(the user the mail belongs to and internal processes run as, the login processes' user)."""
    if os.getuid() == 0:
        return pwd.getpwnam("dovecot"), "dovenull"
    me = pwd.getpwuid(os.getuid())
    return me, me.pw_name


def _tls_config(root: Path, tls_port: int) -> str:
    if not tls_port:
        return "ssl = no\n"
    return f"""ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
"""


def _config(*, root: Path, port: int, tls_port: int = 0) -> str:
    mail_user, login_user = _users()
    group = grp.getgrgid(mail_user.pw_gid).gr_name
    return f"""
instance_name = leadfollow-imap-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{_tls_config(root, tls_port)}disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password is answered at once (the default waits 2 s against guessing).
auth_failure_delay = 0
default_internal_user = {mail_user.pw_name}
default_internal_group = {group}
default_login_user = {login_user}
first_valid_uid = 1
mail_uid = {mail_user.pw_name}
mail_gid = {group}
mail_location = maildir:{root}/mail/%n
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%n
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
# Nor is the next login from 127.0.0.1 slowed down for it (anvil's growing penalty per address).
# No chroot: only root may chroot, and this instance runs as whoever runs the tests.
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""


class DovecotServer:
    def __init__(self, *, user: str = USER, password: str = PASSWORD, tls: bool = False):
        """`tls`: also IMAPS on `tls_port` and STARTTLS on `port`, with a self-signed certificate
        for 127.0.0.1 (`ca_file`: the file a client trusts it by)."""
        self.host, self.user, self.password, self.tls = "127.0.0.1", user, password, tls
        self.port = self.tls_port = 0
        self.ca_file = ""
        self.root: Path | None = None
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> "DovecotServer":
        if not dovecot_available():
            raise DovecotUnavailable(f"{DOVECOT} not found (Debian: apt-get install dovecot-imapd)")
        self.root = Path(tempfile.mkdtemp(prefix="lf-dovecot-"))
        # The unprivileged login and internal processes reach their sockets under base_dir.
        self.root.chmod(0o755)
        mail_user, _ = _users()
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir()
        for sub in ("mail", "home"):
            os.chown(self.root / sub, mail_user.pw_uid, mail_user.pw_gid)
        (self.root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        self.port = free_port()
        if self.tls:
            self.tls_port = free_port()
            self._make_certificate()
        (self.root / "dovecot.conf").write_text(_config(root=self.root, port=self.port, tls_port=self.tls_port))
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "stderr.log", "wb"),  # noqa: SIM115 - the child keeps it
            start_new_session=True,
        )
        wait_until(lambda: self._answers() or self.process.poll() is not None, timeout=timeout)
        if not self._answers():
            self.stop()
            raise DovecotUnavailable(f"dovecot did not start:\n{self.log()}")
        return self

    def _make_certificate(self) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(self.root / "key.pem"),
             "-out", str(self.root / "cert.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
        self.ca_file = str(self.root / "cert.pem")

    def _answers(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as s:
                return s.recv(100).startswith(b"* OK")
        except OSError:
            return False

    def log(self) -> str:
        texts = []
        for name in ("stderr.log", "dovecot.log"):
            path = self.root / name if self.root else None
            if path and path.exists():
                texts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(texts)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # The whole private instance at once (its own session): nothing in it outlives the test,
            # and SIGTERM makes the master wait a second for its children.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> "DovecotServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- What a test does to the mailbox, over IMAP (imaplib: independent of the code under test) ---

    def _session(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> int:
        """Deliver `raw` into `folder` (made if missing); returns its UID there."""
        imap = self._session()
        try:
            imap.create(folder)  # "already exists" is fine
            typ, data = imap.append(folder, None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data}")
            # dovecot answers [APPENDUID <validity> <uid>] (UIDPLUS).
            code = data[0].decode()
            return int(code.split("APPENDUID", 1)[1].split()[1].rstrip("]"))
        finally:
            imap.logout()

    def uids(self, folder: str = "INBOX") -> list[int]:
        """The UIDs in `folder`, ascending (empty when it does not exist)."""
        imap = self._session()
        try:
            typ, _ = imap.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return []
            _, data = imap.uid("SEARCH", "ALL")
            return sorted(int(uid) for uid in data[0].split())
        finally:
            imap.logout()

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """The raw messages in `folder`, in UID order."""
        imap = self._session()
        try:
            typ, _ = imap.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return []
            raws = []
            for uid in self.uids(folder):
                _, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
                raws.append(data[0][1])
            return raws
        finally:
            imap.logout()

    def uid_validity(self, folder: str = "INBOX") -> int:
        imap = self._session()
        try:
            _, data = imap.status(f'"{folder}"', "(UIDVALIDITY)")
            return int(data[0].decode().rsplit("UIDVALIDITY", 1)[1].strip(" )"))
        finally:
            imap.logout()

    def renumber(self, folder: str = "INBOX") -> None:
        """Give `folder` a new UIDVALIDITY, keeping its messages (renumbered from 1), as after a
        server migration: dovecot's maildir keeps UIDs in dovecot-uidlist; removing it (and the
        index) while no session is open makes dovecot assign fresh ones."""
        maildir = self.root / "mail" / self.user.split("@")[0]
        if folder != "INBOX":
            maildir = maildir / f".{folder.replace('/', '.')}"
        before = self.uid_validity(folder)
        for name in os.listdir(maildir):
            if name.startswith("dovecot"):
                path = maildir / name
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        # UIDVALIDITY is a timestamp by default: make sure the new one differs.
        wait_until(lambda: int(time.time()) > before, timeout=2)
        if self.uid_validity(folder) == before:
            raise RuntimeError("UIDVALIDITY did not change")
