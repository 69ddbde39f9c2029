"""A node for the local-authorisation and SSH tests: test users and groups, a real engine, a real sshd.

Everything here runs inside the private mount and network namespace scripts/run-tests makes: the
users are added by bind-mounting edited copies of /etc/passwd and /etc/group (undone at the end),
and sshd runs in a mount namespace of its own with a tmpfs on /run for its privilege-separation
directory. Nothing touches the host's files or its sshd.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from seesaw.common import rpc
from seesaw.lab.fixture_configs import CLUSTER_HEAD, NODE_CFG, web_vserver

READER_GID = 4900  # group "seesaw": reads
ADMIN_GID = 4901  # group "seesaw-admin": writes
OPERATOR = ("seesaw-op", 4902)  # member of "seesaw"
ADMIN = ("seesaw-boss", 4903)  # member of "seesaw-admin"
STRANGER = ("seesaw-stranger", 4904)  # in no Seesaw group

CLUSTER = CLUSTER_HEAD + web_vserver(1)


def private_mounts() -> bool:
    """True in a mount namespace of our own (scripts/run-tests: not our parent's): bind mounts here do not reach
    the host. When in doubt, False."""
    try:
        return os.readlink("/proc/self/ns/mnt") != os.readlink(f"/proc/{os.getppid()}/ns/mnt")
    except OSError:
        return False


@contextmanager
def users_added(work: Path) -> Iterator[None]:
    """Add the test users and groups (bind-mounted copies of /etc/passwd and /etc/group)."""
    home = work / "home"
    home.mkdir(mode=0o755)
    passwd = Path("/etc/passwd").read_text()
    group = Path("/etc/group").read_text()
    for name, uid in (OPERATOR, ADMIN, STRANGER):
        passwd += f"{name}:x:{uid}:{uid}::{home}:/bin/sh\n"
        group += f"{name}:x:{uid}:\n"
    group += f"seesaw:x:{READER_GID}:{OPERATOR[0]}\nseesaw-admin:x:{ADMIN_GID}:{ADMIN[0]}\n"
    mounted: list[str] = []
    try:
        for target, text in (("/etc/passwd", passwd), ("/etc/group", group)):
            copy = work / Path(target).name
            copy.write_text(text)
            copy.chmod(0o644)
            subprocess.run(["mount", "--bind", str(copy), target], check=True)
            mounted.append(target)
        yield
    finally:
        for target in reversed(mounted):
            subprocess.run(["umount", target], check=False)


@dataclass
class Engine:
    config_dir: Path
    run_dir: Path
    proc: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return self.run_dir / "engine" / "engine.sock"

    def audit_lines(self) -> list[str]:
        path = self.run_dir / "engine" / "audit.log"
        return path.read_text().splitlines() if path.exists() else []


@contextmanager
def engine(work: Path) -> Iterator[Engine]:
    config_dir = work / "etc"
    run_dir = work / "run"
    config_dir.mkdir()
    (config_dir / "seesaw.cfg").write_text(NODE_CFG)
    (config_dir / "cluster.pb").write_text(CLUSTER)
    log = (work / "engine.log").open("ab")
    cmd = [sys.executable, "-m", "seesaw.engine", "--config-dir", str(config_dir), "--run-dir", str(run_dir)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    node = Engine(config_dir, run_dir, proc)
    try:
        deadline = time.monotonic() + 30
        while not asyncio.run(rpc.check_health(node.socket)):
            assert proc.poll() is None, (work / "engine.log").read_text()
            assert time.monotonic() < deadline, "the engine did not start"
            time.sleep(0.05)
        yield node
    finally:
        proc.terminate()
        proc.wait(15)


@contextmanager
def workdir() -> Iterator[Path]:
    """A directory every test user can traverse (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix="seesaw-it-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# What a CLI process dropping to another user must have loaded first: after the drop it cannot read the
# interpreter's files under /root. Then it calls the real main().
AS_USER = """
import grp, ipaddress, json, os, pwd, shutil, sys, textwrap
import google.protobuf.json_format, readline
import seesaw.cli.client, seesaw.cli.execute, seesaw.cli.format, seesaw.cli.ipvsadm, seesaw.cli.main
import seesaw.cli.select, seesaw.cli.shell
from seesaw.cli.main import main
user = pwd.getpwnam(sys.argv[1])
os.setgroups(os.getgrouplist(user.pw_name, user.pw_gid))
os.setgid(user.pw_gid)
os.setuid(user.pw_uid)
assert os.getuid() == user.pw_uid and os.geteuid() == user.pw_uid
sys.exit(main(sys.argv[2:]))
"""


def cli_as(user: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """The real `seesaw` CLI, run as `user` (with that user's groups)."""
    return subprocess.run(
        [sys.executable, "-c", AS_USER, user, *argv], capture_output=True, text=True, timeout=60, cwd="/"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SSHServer:
    port: int
    host_key_pub: str
    client_key: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def known_hosts(self, path: Path) -> Path:
        kind, blob = self.host_key_pub.split()[:2]
        path.write_text(f"[127.0.0.1]:{self.port} {kind} {blob}\n")
        return path


@contextmanager
def sshd(work: Path, authorized_users: tuple[str, ...]) -> Iterator[SSHServer]:
    """OpenSSH's sshd on 127.0.0.1, with its own host key, config and authorized_keys (public key login only)."""
    directory = work / "ssh"
    directory.mkdir(mode=0o755)
    host_key = directory / "host_ed25519"
    client_key = directory / "client_ed25519"
    for key in (host_key, client_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    authorized = directory / "authorized_keys"
    authorized.write_text(Path(f"{client_key}.pub").read_text())
    authorized.chmod(0o644)
    port = free_port()
    config = directory / "sshd_config"
    config.write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {directory}/sshd.pid
AuthorizedKeysFile {authorized}
AllowUsers {" ".join(authorized_users)}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin no
AllowStreamLocalForwarding yes
AllowTcpForwarding local
X11Forwarding no
LogLevel VERBOSE
"""
    )
    log = directory / "sshd.log"
    script = 'mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && exec /usr/sbin/sshd -D -e -f "$0"'
    with log.open("ab") as out:
        proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, str(config)],
            stdout=out,
            stderr=out,
        )
    server = SSHServer(port, Path(f"{host_key}.pub").read_text(), client_key, proc, log)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        yield server
    finally:
        proc.terminate()
        proc.wait(10)
