"""The servers under test, each started on a free port of 127.0.0.1 and always stopped.

Every process is started in a session of its own and stopped, in reverse order, by
``stop_all`` (from ``finally`` and ``atexit``): SIGTERM to the process, so that it stops
and reaps its own workers (nginx's, Sen's pre-forked ones), then SIGKILL to whatever is
left of its process group.
"""

from __future__ import annotations

import functools
import os
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
IIPSRV = Path("/usr/lib/iipimage-server/iipsrv.fcgi")
SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
TICK = os.sysconf("SC_CLK_TCK")

_started: list[subprocess.Popen] = []


@dataclass
class Server:
    name: str
    base: str  # http://127.0.0.1:PORT
    image: str  # path of an image's base URI; "{id}" stands for the identifier
    processes: list[subprocess.Popen]  # the first one is the front (the one to wait for)
    describe: str
    log: Path = field(repr=False, default=Path("/dev/null"))

    @property
    def process(self) -> subprocess.Popen:
        return self.processes[0]

    def pids(self) -> list[int]:
        """The server's processes and all their descendants, as they are now."""
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                fields = _stat(int(entry))
                if fields:
                    parents[int(entry)] = int(fields[1])
        tree = frontier = [p.pid for p in self.processes]
        while frontier:
            frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
            tree += frontier
        return tree

    def cpu_seconds(self) -> float:
        """utime + stime of the whole tree, including children it has already reaped."""
        total = 0
        for pid in self.pids():
            fields = _stat(pid)
            if fields:
                total += sum(int(v) for v in fields[11:15])
        return total / TICK

    def rss_kb(self) -> dict[int, int]:
        sizes = {}
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[pid] = int(line.split()[1])
            except OSError:
                pass
        return sizes

    def url(self, identifier: str, rest: str) -> str:
        return self.base + self.image.format(id=identifier) + "/" + rest


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat from field 3 (state) on; the command name may hold spaces."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(command: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    with open(log, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, cwd=ROOT,
                                   start_new_session=True)
    _started.append(process)
    return process


def stop_all() -> None:
    """SIGTERM to every server started here, then SIGKILL to whatever is left of its group.

    The leader is asked first, so that it stops and reaps its own workers (a signal to
    the whole group would leave them as zombies of an init that may not reap).
    """
    while _started:
        process = _started.pop()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def wait_ready(server: Server, path: str, timeout: float = 60) -> None:
    """Until ``path`` answers 200; fail at once, with the log's end, if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in server.processes):
            break
        try:
            with urllib.request.urlopen(server.base + path, timeout=30) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    tail = server.log.read_text(errors="replace").splitlines()[-15:]
    state = ("exited" if any(p.poll() is not None for p in server.processes)
             else "did not answer")
    raise RuntimeError(f"{server.name} {state} ({server.describe}); end of {server.log}:\n  "
                       + "\n  ".join(tail))


def version(package: str) -> str:
    result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                            capture_output=True, text=True)
    return result.stdout or "?"


# -- Sen ---------------------------------------------------------------------------------------

@functools.cache
def sen_help() -> str:
    return subprocess.run([str(PYTHON), "-m", "iiif_server", "--help"], cwd=ROOT,
                          capture_output=True, text=True).stdout


def sen_concurrency() -> tuple[list[str], str]:
    """``--workers 2`` where the server has it (pre-forking), else ``--threads 4``."""
    if "--workers" in sen_help():
        return ["--workers", "2"], "--workers 2"
    return ["--threads", "4"], "--threads 4 (this iiif_server has no --workers yet)"


def start_sen(root: str | Path, workdir: Path, flags: list[str], *, name: str = "sen",
              env: dict | None = None, identifier: str = "bench",
              timeout: float = 60) -> Server:
    port = free_port()
    command = [str(PYTHON), "-m", "iiif_server", str(root), "--host", "127.0.0.1",
               "--port", str(port), *flags]
    log = workdir / f"{name}.log"
    server = Server(name, f"http://127.0.0.1:{port}", "/iiif/image/{id}",
                    [spawn(command, log, env)], shlex.join(command[1:]), log)
    wait_ready(server, server.image.format(id=identifier) + "/info.json", timeout)
    return server


# -- iipsrv behind lighttpd --------------------------------------------------------------------

def start_iipsrv(pyramids: Path, workdir: Path, identifier: str = "bench") -> Server:
    """iipsrv as 2 FastCGI processes behind lighttpd, as iipsrv's README shows.

    The two ``iipsrv.fcgi --bind`` processes are started here rather than by lighttpd, so
    that they are this script's children, stopped and reaped by it. JPEG_QUALITY is
    Sen's 85 (iipsrv's default is 75) and MAX_CVT Sen's maxWidth, so both give
    comparable answers; iipsrv's tile cache keeps its default 10 MB.
    """
    port = free_port()
    home = workdir / "lighttpd"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, FILESYSTEM_PREFIX=f"{pyramids}/", MAX_CVT="10000",
               JPEG_QUALITY="85", VERBOSITY="0", LOGFILE=str(home / "iipsrv.log"))
    sockets = [home / f"iipsrv-{i}.sock" for i in range(2)]
    log = workdir / "iipsrv.log"
    backends = []
    for sock in sockets:
        sock.unlink(missing_ok=True)
        backends.append(spawn([str(IIPSRV), "--bind", str(sock)], log, env))
    hosts = ", ".join(f'("socket" => "{sock}", "check-local" => "disable")' for sock in sockets)
    (home / "lighttpd.conf").write_text(f"""
server.document-root = "{home}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{home}/error.log"
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 60
server.modules = ("mod_fastcgi")
fastcgi.server = ("/fcgi-bin/iipsrv.fcgi" => ({hosts}))
""")
    deadline = time.monotonic() + 10
    while not all(s.exists() for s in sockets) and time.monotonic() < deadline:
        time.sleep(0.05)
    lighttpd = shutil.which("lighttpd", path=SBIN) or "/usr/sbin/lighttpd"
    front = spawn([lighttpd, "-D", "-f", str(home / "lighttpd.conf")], log)
    server = Server("iipsrv", f"http://127.0.0.1:{port}", "/fcgi-bin/iipsrv.fcgi?IIIF={id}.tif",
                    [front, *backends], f"iipsrv {version('iipimage-server')} ×2 FastCGI, "
                    f"lighttpd {version('lighttpd')}", log)
    wait_ready(server, server.image.format(id=identifier) + "/info.json")
    return server


# -- nginx with the dzsave tiles ---------------------------------------------------------------

def start_nginx(static: Path, workdir: Path, identifier: str = "bench") -> Server:
    """The physical limit: pre-cut files sent by nginx (2 workers, sendfile, no access log,
    open file descriptors cached within a quarter of the open-files limit)."""
    port = free_port()
    home = workdir / "nginx"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    temps = "\n".join(f"  {kind}_temp_path {home}/tmp/{kind};"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (home / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 2;
daemon off;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max={resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 4} inactive=120s;
  types {{ image/jpeg jpg; application/json json; }}
  default_type application/octet-stream;
{temps}
  server {{ listen 127.0.0.1:{port}; root {static}; }}
}}
""")
    nginx = shutil.which("nginx", path=SBIN) or "/usr/sbin/nginx"
    log = workdir / "nginx.log"
    command = [nginx, "-p", str(home), "-e", str(home / "error.log"),
               "-c", str(home / "nginx.conf")]
    server = Server("nginx-static", f"http://127.0.0.1:{port}", "/{id}",
                    [spawn(command, log)], f"nginx {version('nginx')}, 2 workers", log)
    wait_ready(server, f"/{identifier}/info.json")
    return server


# -- S3 ------------------------------------------------------------------------------------------

class S3Service:
    """The project's S3 test server (services/up s3), left as it was found."""

    def __init__(self, root: Path):
        self.root = root
        self.started_here = False
        self.uploaded: list[tuple] = []  # (client, bucket, key) to delete afterwards

    def env(self) -> dict[str, str]:
        text = subprocess.run([str(self.root / "services" / "env")], capture_output=True,
                              text=True).stdout
        pairs = (line.removeprefix("export ").split("=", 1) for line in text.splitlines()
                 if line.startswith("export ") and "=" in line)
        return {k: v for k, v in pairs}

    def answering(self, env: dict[str, str]) -> bool:
        endpoint = env.get("SEN_TEST_S3_ENDPOINT")
        if not endpoint:
            return False
        try:
            urllib.request.urlopen(endpoint, timeout=5)
        except urllib.error.HTTPError:
            return True  # 403 for an anonymous request: it is there
        except (urllib.error.URLError, OSError):
            return False
        return True

    def start_sen(self, pyramid: Path, prefix: str, workdir: Path,
                  flags: list[str]) -> Server | None:
        """Upload the pyramid under ``prefix`` and serve it with Sen from s3://; None (and
        the reason printed) when the S3 server or Sen's S3 support is not there."""
        env = self.env()
        if not self.answering(env):
            print("  starting the S3 test server (services/up s3)", flush=True)
            up = subprocess.run([str(self.root / "services" / "up"), "s3"],
                                capture_output=True, text=True)
            self.started_here = True
            env = self.env()
            if up.returncode != 0 or not self.answering(env):
                print(f"  S3 step skipped: services/up s3 failed:\n{up.stdout}{up.stderr}")
                return None
        import boto3  # Sen's own dependency

        client = boto3.client("s3", endpoint_url=env["SEN_TEST_S3_ENDPOINT"],
                              aws_access_key_id=env["SEN_TEST_S3_ACCESS_KEY"],
                              aws_secret_access_key=env["SEN_TEST_S3_SECRET_KEY"],
                              region_name="us-east-1")
        bucket, key = env["SEN_TEST_S3_BUCKET"], f"{prefix}/{pyramid.name}"
        try:
            present = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
        except client.exceptions.ClientError:
            present = -1
        if present != pyramid.stat().st_size:
            started = time.monotonic()
            client.upload_file(str(pyramid), bucket, key)
            print(f"  uploaded the pyramid to s3://{bucket}/{key} in "
                  f"{time.monotonic() - started:.0f} s", flush=True)
        self.uploaded.append((client, bucket, key))
        server_env = dict(os.environ, SEN_S3_ENDPOINT_URL=env["SEN_TEST_S3_ENDPOINT"],
                          SEN_S3_ACCESS_KEY=env["SEN_TEST_S3_ACCESS_KEY"],
                          SEN_S3_SECRET_KEY=env["SEN_TEST_S3_SECRET_KEY"],
                          SEN_S3_REGION="us-east-1")
        if "--cache-dir" in sen_help():  # start cold, and leave nothing behind
            flags = [*flags, "--cache-dir", str(workdir / "s3-cache")]
        try:
            return start_sen(f"s3://{bucket}/{prefix}", workdir, flags, name="sen-s3",
                             env=server_env, identifier=pyramid.stem, timeout=300)
        except RuntimeError as exc:
            print(f"  S3 step skipped: Sen's image server does not serve s3:// roots "
                  f"(yet?):\n  {exc}", flush=True)
            return None

    def restore(self) -> None:
        """Delete what was uploaded; stop the S3 server if it was started here."""
        for client, bucket, key in self.uploaded:
            try:
                client.delete_object(Bucket=bucket, Key=key)
            except Exception as exc:  # cleaning up: say it and go on
                print(f"  could not delete s3://{bucket}/{key}: {exc}")
        self.uploaded.clear()
        if self.started_here:
            subprocess.run([str(self.root / "services" / "down"), "s3"], capture_output=True)
            self.started_here = False
