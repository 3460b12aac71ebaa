"""A throwaway PostgreSQL server for the test run, from the Debian ``postgresql`` package.

``initdb`` into a temporary folder (as the ``postgres`` user when the tests run as
root, since PostgreSQL refuses to run as root), then ``pg_ctl start`` on a free
loopback port with its socket in that folder. Connections over TCP need a
password (scram-sha-256), as on a team's real server; the test's own
administration goes through the Unix socket.

    server = PostgresServer().start()
    url = server.create_database("team", owner="seller", password="s3cret")
    ...
    server.stop()
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

SUPERUSER = "postgres"


def postgres_bin_dir() -> str:
    """The folder holding initdb and pg_ctl: Debian keeps them off PATH, per major version."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    on_path = shutil.which("pg_ctl")
    if on_path:
        return os.path.dirname(on_path)
    raise RuntimeError("install PostgreSQL's server: apt-get install postgresql (make test does)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    def __init__(self):
        self.bin = postgres_bin_dir()
        self.port = free_port()
        self.folder = None
        self.running = False

    @property
    def socket_dir(self) -> str:
        return self.folder

    def _as_owner(self, command: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", SUPERUSER, "--", *command]
        return command

    def start(self) -> "PostgresServer":
        # Not under pytest's tmp_path: the postgres user must be able to reach it.
        self.folder = tempfile.mkdtemp(prefix="voicecoach-pg-")
        if os.geteuid() == 0:
            user = pwd.getpwnam(SUPERUSER)
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        data = os.path.join(self.folder, "data")
        subprocess.run(
            self._as_owner([
                os.path.join(self.bin, "initdb"), "-D", data, "-U", SUPERUSER, "--no-sync",
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C",
            ]),
            check=True, capture_output=True,
        )
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        result = subprocess.run(
            self._as_owner([
                os.path.join(self.bin, "pg_ctl"), "start", "-D", data, "-w", "-t", "60",
                "-l", os.path.join(self.folder, "server.log"), "-o", options,
            ]),
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr.strip()} {self.log_tail()}")
        self.running = True
        return self

    def log_tail(self) -> str:
        try:
            with open(os.path.join(self.folder, "server.log"), encoding="utf-8", errors="replace") as log:
                return log.read()[-2000:]
        except OSError:
            return ""

    def admin(self, dbname: str = "postgres"):
        """A superuser connection over the Unix socket (no password: the test's own administration)."""
        import psycopg

        return psycopg.connect(host=self.folder, port=self.port, user=SUPERUSER, dbname=dbname, autocommit=True)

    def create_database(self, name: str | None = None, owner: str = "team", password: str | None = None) -> str:
        """A fresh database owned by a password-protected role; returns its URL, without the password."""
        from psycopg import sql

        name = name or f"team_{uuid.uuid4().hex[:8]}"
        password = password or f"pw-{uuid.uuid4().hex}"
        with self.admin() as conn:
            exists = conn.execute("select 1 from pg_roles where rolname = %s", [owner]).fetchone()
            verb = "alter" if exists else "create"
            conn.execute(
                sql.SQL(verb + " role {} login password {}").format(sql.Identifier(owner), sql.Literal(password))
            )
            conn.execute(sql.SQL("create database {} owner {}").format(sql.Identifier(name), sql.Identifier(owner)))
        self.passwords = getattr(self, "passwords", {})
        self.passwords[owner] = password
        return f"postgresql://{owner}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.running:
            subprocess.run(
                self._as_owner([
                    os.path.join(self.bin, "pg_ctl"), "stop", "-D", os.path.join(self.folder, "data"),
                    "-m", "immediate", "-w", "-t", "30",
                ]),
                capture_output=True,
            )
            self.running = False
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
