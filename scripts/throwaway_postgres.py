"""Run a command against a throw-away PostgreSQL server.

    python scripts/throwaway_postgres.py -- python -m pytest tests/engines

Creates a cluster in a temporary folder (Debian's PostgreSQL server
binaries; installed with apt-get when missing and run as root), starts it on
a free port of 127.0.0.1, runs the command with PIPELINE_POSTGRES_HOST,
_PORT, _USER and _DBNAME set (the postgres target of profiles.yml reads
them), then stops the server and removes the folder, whatever the command's
outcome. Exits with the command's exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER = "pipeline"
DBNAME = "pipeline"


def server_binaries() -> Path:
    """The newest installed PostgreSQL's bin folder, installing it if none is."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found and shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    if not found:
        if os.geteuid() != 0:
            sys.exit("PostgreSQL server binaries are missing: apt-get install postgresql")
        print("throwaway_postgres: installing postgresql (apt-get)", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
            check=True,
            env=env,
        )
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as postgres."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[dict[str, str]]:
    """A running server for the duration of the block; yields its env vars."""
    binaries = server_binaries()
    folder = Path(tempfile.mkdtemp(prefix="pipeline_postgres_"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        folder.chmod(0o755)
    port = free_port()
    try:
        subprocess.run(
            as_server_user(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = (
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
            # A throw-away server: durability is not needed, speed is.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            as_server_user(
                [
                    str(binaries / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(folder / "server.log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DBNAME],
            check=True,
        )
        yield {
            "PIPELINE_POSTGRES_HOST": "127.0.0.1",
            "PIPELINE_POSTGRES_PORT": str(port),
            "PIPELINE_POSTGRES_USER": USER,
            "PIPELINE_POSTGRES_PASSWORD": "",
            "PIPELINE_POSTGRES_DBNAME": DBNAME,
        }
    finally:
        subprocess.run(
            as_server_user(
                [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            ),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- and the command to run")
    command = parser.parse_args().command
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        parser.error("give the command to run after --")
    with throwaway_postgres() as server_env:
        print(
            f"throwaway_postgres: server on port {server_env['PIPELINE_POSTGRES_PORT']}", flush=True
        )
        return subprocess.run(command, env={**os.environ, **server_env}).returncode


if __name__ == "__main__":
    sys.exit(main())
