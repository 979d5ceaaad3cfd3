"""PostgreSQL 15 (the portal's database), from Debian's ``postgresql`` package.

The server runs in the foreground under the supervisor, on the loopback only, with its data in
``<run dir>/postgres`` and its Unix socket in that folder too (never /var/run/postgresql).

It is started through this module's ``main``, a small wrapper that runs ``postgres`` as its
child in the same process group, for two reasons:

- PostgreSQL refuses to run as root. When the launcher is root, the wrapper starts the server
  as the ``postgres`` system user (and ``initdb`` runs as that user too).
- The supervisor stops a component with SIGTERM to its process group, which PostgreSQL takes
  as a *smart* shutdown: it waits for every client to disconnect, so one idle connection left
  open would hold it until the supervisor's SIGKILL, and the next start would need crash
  recovery. The wrapper turns SIGTERM into SIGINT, a *fast* shutdown (what ``pg_ctl stop``
  does): clients are disconnected, a shutdown checkpoint is written, and the postmaster exits
  after all its own children (each of which runs in a session of its own).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from skymesh.config import HOST, POSTGRES_USER, REPO_ROOT, Settings
from skymesh.infra.process import Managed, port_open

# This module, as ``python -m`` runs it (``__name__`` is then "__main__").
MODULE = "skymesh.infra.postgres"
BIN_DIR = Path("/usr/lib/postgresql/15/bin")
SYSTEM_USER = "postgres"
# PostgreSQL refuses a Unix socket path longer than sockaddr_un.sun_path allows (108 - NUL).
MAX_SOCKET_PATH = 107


def bin_dir() -> Path:
    """Debian's PostgreSQL 15 binaries, else the folder of a ``postgres`` on the PATH."""
    if (BIN_DIR / "postgres").exists():
        return BIN_DIR
    if (found := shutil.which("postgres")) is not None:
        return Path(found).parent
    raise RuntimeError(
        f"PostgreSQL not found in {BIN_DIR}: install Debian's postgresql package "
        "(scripts/install-system-packages.sh)"
    )


def server_user() -> pwd.struct_passwd | None:
    """The account the server runs as: ``postgres`` when we are root, else us (None)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise RuntimeError(
            f"PostgreSQL refuses to run as root and there is no {SYSTEM_USER!r} user to run it "
            "as: install Debian's postgresql package, or run skymesh as a normal user"
        ) from None


def as_user(user: pwd.struct_passwd | None) -> dict[str, Any]:
    """subprocess arguments that run a child as ``user`` (with its groups only), or as us."""
    if user is None:
        return {}
    return {
        "user": user.pw_uid,
        "group": user.pw_gid,
        "extra_groups": os.getgrouplist(user.pw_name, user.pw_gid),
    }


def grant_traverse(directory: Path, user: pwd.struct_passwd) -> list[Path]:
    """Lets ``user`` reach ``directory`` (search, not list): returns the folders changed.

    When root runs the mesh, the server (as ``postgres``) must pass through every ancestor of
    its data folder. pytest's run dirs lie under /tmp/pytest-of-root/pytest-N/..., all mode
    0700. There is no ACL tool on a stock Debian (``acl`` is not installed), so the folders
    that ``user`` cannot search get the execute bit of the class ``user`` falls in; for
    folders of root that is o+x. That lets other users pass through, not list: they still
    need a file's exact name, and each file's own mode still applies (the JWT secret is 0600,
    the data folder 0700 and owned by ``postgres``). Folders the user can already search,
    like /work/... or a normal .run, are left as they are.
    """
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    changed = []
    for folder in [*reversed(directory.parents), directory]:
        info = folder.stat()
        if info.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            folder.chmod(stat.S_IMODE(info.st_mode) | bit)
            changed.append(folder)
    return changed


def init_cluster(data_dir: Path, user: pwd.struct_passwd | None) -> bool:
    """Creates the cluster unless ``data_dir`` holds one (PG_VERSION); True when it did.

    The bootstrap superuser is ``skymesh``, with trust authentication (the server listens on
    the loopback only). ``C.UTF-8`` makes the cluster the same whatever the caller's locale.
    """
    if (data_dir / "PG_VERSION").exists():
        return False
    if data_dir.exists() and any(data_dir.iterdir()):
        raise RuntimeError(
            f"{data_dir} is not empty but holds no PostgreSQL cluster (no PG_VERSION): "
            "move it away so that a new one can be created"
        )
    # initdb into a scratch folder and swap it in, so an interrupted initdb never looks done.
    staging = data_dir.with_name(data_dir.name + ".initdb")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700, parents=True)
    if user is not None:
        os.chown(staging, user.pw_uid, user.pw_gid)
    result = subprocess.run(
        [
            str(bin_dir() / "initdb"),
            "-D",
            str(staging),
            "-A",
            "trust",
            "-U",
            POSTGRES_USER,
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
        ],
        cwd=staging,
        env=_client_env(),
        capture_output=True,
        text=True,
        check=False,
        **as_user(user),
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"initdb of {staging} failed (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    if data_dir.exists():
        data_dir.rmdir()
    staging.rename(data_dir)
    return True


def server_argv(settings: Settings, data_dir: Path) -> list[str]:
    """The foreground server: TCP on the loopback only, its Unix socket in its data folder."""
    port = settings.ports.postgres
    # A too long socket path (deep run dirs) would stop the server: then TCP only.
    socket_dir = str(data_dir) if len(f"{data_dir}/.s.PGSQL.{port}") <= MAX_SOCKET_PATH else ""
    return [
        str(bin_dir() / "postgres"),
        "-D",
        str(data_dir),
        "-p",
        str(port),
        "-k",
        socket_dir,
        "-c",
        f"listen_addresses={HOST}",
    ]


def _client_env() -> dict[str, str]:
    """Our environment without libpq's PG* variables (a stray PGSSLMODE, PGSERVICE, ...)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "2"
    return env


def _client(settings: Settings, program: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(bin_dir() / program),
            "-h",
            HOST,
            "-p",
            str(settings.ports.postgres),
            "-U",
            POSTGRES_USER,
            *args,
        ],
        env=_client_env(),
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )


def ensure_database(settings: Settings, data_dir: Path) -> bool:
    """True once the server of ``data_dir`` answers and ``settings.db_name`` exists in it.

    Creates that database when it is missing. Asking the server for its data folder makes sure
    that another server on the same port is never taken for ours.
    """
    query = (
        "select json_build_object('data_directory', current_setting('data_directory'), "
        "'databases', json_agg(datname)) from pg_database"
    )
    result = _client(settings, "psql", "-X", "-q", "-A", "-t", "-d", "postgres", "-c", query)
    if result.returncode != 0:
        return False
    try:
        info = json.loads(result.stdout)
    except ValueError:
        return False
    if info["data_directory"] != str(data_dir):
        return False
    if settings.db_name in info["databases"]:
        return True
    return _client(settings, "createdb", "--", settings.db_name).returncode == 0


def managed(settings: Settings) -> Managed:
    """Creates the cluster on first use and returns the spec of its server."""
    data_dir = (settings.run_dir / "postgres").absolute()
    user = server_user()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if user is not None:
        grant_traverse(data_dir.parent, user)
    init_cluster(data_dir, user)
    wrapper = [sys.executable, "-m", MODULE, "--cwd", str(data_dir)]
    if user is not None:
        wrapper += ["--user", user.pw_name]
    port = settings.ports.postgres
    return Managed(
        name="postgres",
        argv=[*wrapper, "--", *server_argv(settings, data_dir)],
        ready=lambda: port_open(port) and ensure_database(settings, data_dir),
        cwd=REPO_ROOT,
        startup_timeout=60,
    )


def serve(server: list[str], cwd: Path, user: pwd.struct_passwd | None) -> int:
    """Runs the server as a child until it exits; SIGTERM or SIGINT asks for a fast shutdown."""
    proc: subprocess.Popen[bytes] | None = None
    stop_requested = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    proc = subprocess.Popen(server, cwd=cwd, stdin=subprocess.DEVNULL, **as_user(user))
    if stop_requested:  # a stop that came while the server was being spawned
        proc.send_signal(signal.SIGINT)
    code = proc.wait()
    return code if code >= 0 else 128 - code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {MODULE}",
        description="Run a PostgreSQL server in the foreground; SIGTERM stops it fast.",
    )
    parser.add_argument("--cwd", type=Path, required=True, help="the server's working folder")
    parser.add_argument("--user", help="run the server as this user (needs root)")
    parser.add_argument("server", nargs="+", help="the server's command line, after --")
    args = parser.parse_args(argv)
    user = pwd.getpwnam(args.user) if args.user else None
    return serve(args.server, args.cwd, user)


if __name__ == "__main__":
    sys.exit(main())
