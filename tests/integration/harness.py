"""Servers for the mod_sdesk integration tests and `make demo`.

Everything listens on 127.0.0.1, lives under one directory the caller owns
(conftest.py makes it with mkdtemp), and is stopped by its PID: SIGTERM first,
SIGKILL if it is still there after a while. Every server started here is also
registered for an atexit stop, so an interrupted run leaves nothing behind.

Classes:
  Slapd      OpenLDAP slapd with an mdb database loaded from data/directory.ldif
  Postgres   a private PostgreSQL cluster (initdb as the postgres user)
  Blackhole  a TCP port that accepts connections and never answers
  Httpd      Debian's /usr/sbin/apache2 from templates/httpd.conf.in
  Desk       one running stack (slapd + httpd + database) with the helpers the
             `desk` fixture exposes (see README.md)

Only the Python standard library is needed here; requests (Desk.client) and
psycopg2 (Desk.db_query on pgsql) are imported when used.
"""

import atexit
import contextlib
import glob
import grp
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(HERE, "data")
TEMPLATE = os.path.join(HERE, "templates", "httpd.conf.in")
LDIF = os.path.join(DATA, "directory.ldif")
HTPASSWD = os.path.join(DATA, "htpasswd")
MODULE = os.environ.get("SDESK_MODULE") or os.path.join(REPO, "build", "mod_sdesk.so")
# The companion module of test_700_hooks.py (`make testhooks`).
TESTHOOKS_MODULE = (os.environ.get("SDESK_TESTHOOKS_MODULE")
                    or os.path.join(REPO, "build", "mod_sdesk_testhooks.so"))


def httpd_env():
    """The environment httpd runs with. SDESK_ASAN=1 (make test-asan): the
    sanitizer runtimes are preloaded for the ASan/UBSan build of the module;
    their reports go to the error log, where the scan after each test finds
    them. Leak checking is off: httpd frees its pools at exit by design."""
    env = dict(os.environ)
    if os.environ.get("SDESK_ASAN") == "1":
        libs = []
        for name in ("libasan.so", "libubsan.so"):
            out = subprocess.run(["gcc", "-print-file-name=" + name], capture_output=True,
                                 text=True).stdout.strip()
            if out and os.path.isabs(out):
                libs.append(os.path.realpath(out))
        env["LD_PRELOAD"] = " ".join(libs)
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0:halt_on_error=1"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env

APACHE2 = "/usr/sbin/apache2"
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMA_DIR = "/etc/ldap/schema"
HTTPD_USER = "www-data"
HTTPD_GROUP = "www-data"
PG_USER = "postgres"

SUFFIX = "dc=sdesk,dc=test"
READER_DN = "cn=reader," + SUFFIX
READER_PW = "reader-secret"
ADMIN_DN = "cn=admin," + SUFFIX
ADMIN_PW = "admin-secret"
LDAP_FILTER = "(objectClass=inetOrgPerson)"

# The README table: uid -> (password, tenant, role)
USERS = {
    "alice": ("alice-secret", "north-hospital", "reporter"),
    "bob": ("bob-secret", "north-hospital", "reporter"),
    "nina": ("nina-secret", "north-hospital", "agent tier 1"),
    "tom": ("tom-secret", "north-hospital", "agent tier 2"),
    "tess": ("tess-secret", "north-hospital", "agent tier 3"),
    "ada": ("ada-secret", "north-hospital", "admin"),
    "carol": ("carol-secret", "south-clinic", "reporter"),
    "dan": ("dan-secret", "south-clinic", "reporter"),
    "sam": ("sam-secret", "south-clinic", "agent tier 2"),
}
# Passwords, including ghost (only in data/htpasswd, not in the directory).
PASSWORDS = dict({u: v[0] for u, v in USERS.items()}, ghost="ghost-secret")

DB_TABLES = ("tickets", "ticket_events", "comments", "attachments", "known_issues", "outbox")

# A line of httpd's error log that fails a test (README: [error] and [warn];
# crit/alert/emerg, crashed children and sanitizer reports as well).
BAD_LOG_LINE = re.compile(
    r"\[(?:[\w.-]+:)?(?:warn|error|crit|alert|emerg)\]"
    r"|AH00052|AH00060|AddressSanitizer|LeakSanitizer|runtime error:")


class HarnessError(RuntimeError):
    pass


# ---- processes ------------------------------------------------------------------

_live = []          # servers to stop at exit
_live_lock = threading.Lock()


def _register(obj):
    with _live_lock:
        if obj not in _live:
            _live.append(obj)


def _unregister(obj):
    with _live_lock:
        if obj in _live:
            _live.remove(obj)


def stop_all():
    """Stop every server this process started and has not stopped yet."""
    with _live_lock:
        objs = list(reversed(_live))
    for obj in objs:
        try:
            obj.stop()
        except Exception as e:  # keep stopping the others
            print("harness: stopping %r failed: %s" % (obj, e))


atexit.register(stop_all)


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    if not pid:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def child_pids(pid):
    """PIDs whose parent is pid."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(d))
    return kids


def _threads(pid):
    """Number of threads of pid (0 once it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def stop_pid(pid, timeout=15.0, sig=signal.SIGTERM, popen=None, with_children=False):
    """Send sig to pid, wait up to timeout for it to go, then SIGKILL it
    (and, with_children, its children). Reaps popen when given."""
    if not pid_alive(pid):
        if popen is not None:
            popen.poll()
        return
    kids = child_pids(pid) if with_children else []
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen is not None:
            popen.poll()
        if not pid_alive(pid):
            break
        time.sleep(0.05)
    else:
        kids = list(set(kids + (child_pids(pid) if with_children else [])))
        for p in [pid] + kids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if popen is not None:
            try:
                popen.wait(5)
            except subprocess.TimeoutExpired:
                pass
    # children of a killed parent (httpd) go on their own; make sure
    for p in kids:
        t_end = time.monotonic() + 5
        while pid_alive(p) and time.monotonic() < t_end:
            time.sleep(0.05)
        if pid_alive(p):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


def run(cmd, user=None, cwd=None, check=True, timeout=120, input=None, env=None):
    """Run cmd (as user via runuser when given); returns CompletedProcess with
    stdout holding stdout and stderr together."""
    if user:
        cmd = ["runuser", "-u", user, "--"] + list(cmd)
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=timeout, input=input, env=env,
                       stdin=None if input is not None else subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise HarnessError("%s failed (exit %d):\n%s" % (" ".join(cmd), p.returncode, p.stdout))
    return p


def chown(path, user, group=None, recursive=False):
    uid = pwd.getpwnam(user).pw_uid
    gid = grp.getgrnam(group).gr_gid if group else pwd.getpwnam(user).pw_gid
    os.chown(path, uid, gid)
    if recursive:
        for base, dirs, files in os.walk(path):
            for n in dirs + files:
                os.lchown(os.path.join(base, n), uid, gid)


def tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


# ---- ports ----------------------------------------------------------------------

_handed_out = set()


def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(preferred=None):
    """A TCP port on 127.0.0.1 nothing listens on: preferred if it is free,
    else one the kernel picks. Never hands out the same port twice."""
    if preferred and preferred not in _handed_out and port_free(preferred):
        _handed_out.add(preferred)
        return preferred
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise HarnessError("no free port")


def port_open(port, host="127.0.0.1", timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(pred, timeout, what, interval=0.05, fail=None):
    """Poll pred until true; fail() (if given) returning a string aborts early."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return
        if fail is not None:
            msg = fail()
            if msg:
                raise HarnessError(msg)
        if time.monotonic() > deadline:
            raise HarnessError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---- slapd ----------------------------------------------------------------------

SLAPD_CONF = """\
# generated by tests/integration/harness.py
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
include {schema}/nis.schema

pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
sizelimit 500
timelimit 10

database mdb
maxsize 104857600
suffix "{suffix}"
rootdn "{admin_dn}"
rootpw {admin_pw}
directory {dir}/db
index objectClass eq
index uid eq
index member eq
index cn eq

# passwords: only for binding; cn=reader reads the rest of the directory
access to attrs=userPassword
    by self =xw
    by anonymous auth
    by * none
access to *
    by dn.exact="{reader_dn}" read
    by self read
    by * none
"""


class Slapd:
    """slapd on 127.0.0.1:port with its mdb database in dir."""

    def __init__(self, dir, port=None, ldif=LDIF):
        self.dir = os.path.abspath(dir)
        self.port = port or free_port()
        self.ldif = ldif
        self.conf = os.path.join(self.dir, "slapd.conf")
        self.log = os.path.join(self.dir, "slapd.log")
        self.proc = None
        self._loaded = False

    def __repr__(self):
        return "<Slapd %s pid=%s>" % (self.url, self.pid)

    @property
    def url(self):
        return "ldap://127.0.0.1:%d" % self.port

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def setup(self):
        """Write slapd.conf and load the LDIF (once)."""
        if self._loaded:
            return
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(SLAPD_CONF.format(schema=SCHEMA_DIR, dir=self.dir, suffix=SUFFIX,
                                      admin_dn=ADMIN_DN, admin_pw=ADMIN_PW,
                                      reader_dn=READER_DN))
        run([SLAPADD, "-q", "-f", self.conf, "-l", self.ldif])
        self._loaded = True

    def start(self, timeout=20):
        """Start slapd (in the foreground, as a child of this process) on the
        same port and data as before, and wait until cn=reader can bind."""
        if self.running:
            return
        self.setup()
        logf = open(self.log, "ab")
        try:
            self.proc = subprocess.Popen(
                [SLAPD, "-h", "ldap://127.0.0.1:%d/" % self.port, "-f", self.conf, "-d", "0"],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                cwd=self.dir, start_new_session=True)
        finally:
            logf.close()
        _register(self)

        def died():
            if self.proc.poll() is not None:
                return "slapd exited with %s:\n%s" % (self.proc.returncode, tail(self.log))
            return None
        wait_until(lambda: port_open(self.port) and self.whoami(), timeout,
                   "slapd on port %d" % self.port, interval=0.1, fail=died)

    def whoami(self):
        p = run(["ldapwhoami", "-x", "-H", self.url, "-D", READER_DN, "-w", READER_PW,
                 "-o", "nettimeout=2"], check=False, timeout=10)
        return p.returncode == 0

    def search(self, filter="(objectClass=*)", *attrs, base=SUFFIX, bind=(READER_DN, READER_PW)):
        """ldapsearch output (LDIF text)."""
        cmd = ["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", self.url, "-b", base]
        if bind:
            cmd += ["-D", bind[0], "-w", bind[1]]
        return run(cmd + [filter] + list(attrs), timeout=20).stdout

    def stop(self, timeout=10):
        if self.proc is not None:
            stop_pid(self.proc.pid, timeout=timeout, popen=self.proc)
            self.proc.poll()
        _unregister(self)

    def restart(self):
        self.stop()
        self.start()


# ---- PostgreSQL -----------------------------------------------------------------

def pg_bindir():
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(re.search(r"/(\d+)/bin", p).group(1)))
    if not cands:
        raise HarnessError("PostgreSQL not installed (no /usr/lib/postgresql/*/bin/initdb)")
    return os.path.dirname(cands[-1])


class Postgres:
    """A private cluster in dir (owned by the postgres user), listening on
    127.0.0.1:port, its unix socket in dir/sock, trust auth; database and role
    `sdesk`."""

    DBNAME = "sdesk"
    ROLE = "sdesk"

    def __init__(self, dir, port=None):
        self.dir = os.path.abspath(dir)
        self.port = port or free_port()
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.log = os.path.join(self.dir, "postgres.log")
        self.bin = pg_bindir()
        self._ready = False

    def __repr__(self):
        return "<Postgres 127.0.0.1:%d pid=%s>" % (self.port, self.pid)

    def _pg(self, prog, *args, check=True, timeout=120):
        return run([os.path.join(self.bin, prog)] + list(args), user=PG_USER, cwd=self.dir,
                   check=check, timeout=timeout)

    @property
    def dbd_params(self):
        return ("host=127.0.0.1 port=%d dbname=%s user=%s connect_timeout=3 "
                "options='-c statement_timeout=5000'" % (self.port, self.DBNAME, self.ROLE))

    @property
    def pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    @property
    def running(self):
        return pid_alive(self.pid)

    def setup(self):
        if self._ready:
            return
        os.makedirs(self.sock, exist_ok=True)
        os.chmod(self.dir, 0o755)
        chown(self.dir, PG_USER, recursive=True)
        self._pg("initdb", "-D", self.data, "-E", "UTF8", "--locale=C.UTF-8",
                 "-A", "trust", "-U", "postgres", "--no-sync")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# harness.py\n"
                    "listen_addresses = '127.0.0.1'\n"
                    "port = %d\n"
                    "unix_socket_directories = '%s'\n"
                    "fsync = on\n"
                    "max_connections = 100\n"
                    "timezone = 'UTC'\n"
                    "log_timezone = 'UTC'\n"
                    "logging_collector = off\n" % (self.port, self.sock))
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("# harness.py: trust on the socket and 127.0.0.1 only\n"
                    "local all all trust\n"
                    "host  all all 127.0.0.1/32 trust\n")
        chown(self.data, PG_USER, recursive=True)
        self.start()
        self._pg("createuser", "-h", self.sock, "-p", str(self.port), "-U", "postgres", self.ROLE)
        self._pg("createdb", "-h", self.sock, "-p", str(self.port), "-U", "postgres",
                 "-O", self.ROLE, self.DBNAME)
        self._ready = True

    def start(self):
        if self.running:
            return
        p = self._pg("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start",
                     check=False)
        if p.returncode != 0:
            raise HarnessError("pg_ctl start failed:\n%s\n%s" % (p.stdout, tail(self.log)))
        _register(self)
        wait_until(lambda: port_open(self.port), 20, "postgres on port %d" % self.port)

    def stop(self):
        pid = self.pid
        if pid_alive(pid):
            self._pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "30", "stop",
                     check=False)
            if pid_alive(pid):      # SIGINT is postgres' fast shutdown
                stop_pid(pid, timeout=15, sig=signal.SIGINT)
        _unregister(self)

    def restart(self):
        """pg_ctl restart -m fast (same port and data)."""
        p = self._pg("pg_ctl", "-D", self.data, "-l", self.log, "-m", "fast", "-w",
                     "-t", "60", "restart", check=False)
        if p.returncode != 0:
            raise HarnessError("pg_ctl restart failed:\n%s\n%s" % (p.stdout, tail(self.log)))
        _register(self)
        wait_until(lambda: port_open(self.port), 20, "postgres on port %d" % self.port)

    def connect(self):
        import psycopg2
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, dbname=self.DBNAME,
                                user=self.ROLE, connect_timeout=5)
        conn.autocommit = True
        return conn

    def psql(self, sql):
        return run(["psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port),
                    "-U", self.ROLE, self.DBNAME, "-c", sql], timeout=60).stdout


# ---- a directory that never answers ---------------------------------------------

class Blackhole:
    """Accepts TCP connections on 127.0.0.1:port and never sends a byte."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self._sock = None
        self._conns = []
        self._stop = threading.Event()
        self._thread = None

    def __repr__(self):
        return "<Blackhole 127.0.0.1:%d>" % self.port

    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def start(self):
        if self.running:
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(128)
        s.settimeout(0.2)
        self._sock = s
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="blackhole", daemon=True)
        self._thread.start()
        _register(self)

    def _serve(self):
        while not self._stop.is_set():
            try:
                c, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self._conns.append(c)       # held open, never read or written

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        for c in self._conns:
            with contextlib.suppress(OSError):
                c.close()
        self._conns = []
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None
        _unregister(self)


# ---- httpd ----------------------------------------------------------------------

def apxs_libexecdir():
    try:
        out = subprocess.run(["apxs", "-q", "LIBEXECDIR"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True).stdout.strip()
    except OSError:
        out = ""
    return out or "/usr/lib/apache2/modules"


class ConfResult(tuple):
    """(exit code, output) of `apache2 -t`, plus .path, .text, .extra_line
    (line number of the first line of extra_conf in the file) and line_of()."""

    def __new__(cls, rc, output, path, text, extra_line):
        self = tuple.__new__(cls, (rc, output))
        self.path, self.text, self.extra_line = path, text, extra_line
        return self

    @property
    def rc(self):
        return self[0]

    @property
    def output(self):
        return self[1]

    def line_of(self, needle):
        """1-based number of the first line of the generated file containing needle."""
        for i, line in enumerate(self.text.split("\n"), 1):
            if needle in line:
                return i
        raise KeyError(needle)


class Httpd:
    """Debian's apache2 run in the foreground from a config generated from
    templates/httpd.conf.in under root (its ServerRoot)."""

    def __init__(self, root, backend="sqlite", port=None, ldap_port=None, pg=None,
                 blackhole_port=None, blackhole_ldap_port=None, with_module=None,
                 extra_conf="", omit=(), start_servers=2, threads_per_child=8,
                 max_request_workers=16, dbd_max=None):
        if backend not in ("sqlite", "pgsql"):
            raise HarnessError("unknown backend %r" % backend)
        if backend == "pgsql" and pg is None:
            raise HarnessError("the pgsql backend needs a Postgres")
        self.root = os.path.abspath(root)
        self.backend = backend
        self.port = port or free_port()
        self.ldap_port = ldap_port or 9        # nothing listens there: config tests
        self.pg = pg
        self.blackhole_port = blackhole_port
        self.blackhole_ldap_port = blackhole_ldap_port
        if with_module is None:
            with_module = os.environ.get("SDESK_NO_MODULE", "") != "1"
        self.with_module = with_module
        self.extra_conf = extra_conf
        self.omit = tuple(omit)
        self.start_servers = start_servers
        self.threads_per_child = threads_per_child
        self.max_request_workers = max_request_workers
        self.dbd_max = dbd_max or threads_per_child
        # None, or {"log": path, "fail": hook name or None}: load the test
        # module (templates: BEGIN_TESTHOOKS) with that log
        self.testhooks = None
        self.conf = os.path.join(self.root, "conf", "httpd.conf")
        self.error_log = os.path.join(self.root, "logs", "error.log")
        self.access_log = os.path.join(self.root, "logs", "access.log")
        self.stdout_log = os.path.join(self.root, "logs", "stdout.log")
        self.pidfile = os.path.join(self.root, "run", "httpd.pid")
        self.sqlite_db = os.path.join(self.root, "var", "sdesk.db")
        self.proc = None
        self._n = 0
        self._prepare_root()

    def __repr__(self):
        return "<Httpd %s %s pid=%s>" % (self.url, self.backend, self.pid)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _prepare_root(self):
        for d in ("conf", "logs", "run", "var", "htdocs/static"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        os.chmod(self.root, 0o755)
        with open(os.path.join(self.root, "htdocs", "static", "1k.txt"), "w") as f:
            f.write(("0123456789abcdef" * 4 + "\n")[:64] * 16)      # 1024 bytes
        shutil.copyfile(HTPASSWD, os.path.join(self.root, "conf", "htpasswd"))
        os.chmod(os.path.join(self.root, "conf", "htpasswd"), 0o644)
        # The children run as www-data: the SQLite file, its -wal and -shm live
        # in var/, which they own. An empty file is a valid empty database;
        # creating it here keeps it www-data's even if the parent opens it.
        if not os.path.exists(self.sqlite_db):
            open(self.sqlite_db, "a").close()
        os.chmod(self.sqlite_db, 0o660)
        chown(os.path.join(self.root, "var"), HTTPD_USER, HTTPD_GROUP, recursive=True)
        os.chmod(os.path.join(self.root, "var"), 0o770)

    # -- configuration --
    def dbd_conf(self):
        if self.backend == "sqlite":
            return "DBDriver sqlite3\nDBDParams \"%s\"" % self.sqlite_db
        return "DBDriver pgsql\nDBDParams \"%s\"" % self.pg.dbd_params

    def render(self, extra_conf=None, omit=None):
        """The config text; (text, line number where extra_conf starts)."""
        extra_conf = self.extra_conf if extra_conf is None else extra_conf
        omit = self.omit if omit is None else tuple(omit)
        with open(TEMPLATE) as f:
            text = f.read()
        if self.blackhole_port is None:
            text = re.sub(r"(?ms)^# @BEGIN_BLACKHOLE@$.*?^# @END_BLACKHOLE@\n", "", text)
        else:
            text = text.replace("# @BEGIN_BLACKHOLE@\n", "").replace("# @END_BLACKHOLE@\n", "")
        th = self.testhooks
        if th is None:
            text = re.sub(r"(?ms)^# @BEGIN_TESTHOOKS@$.*?^# @END_TESTHOOKS@\n", "", text)
        else:
            text = text.replace("# @BEGIN_TESTHOOKS@\n", "").replace("# @END_TESTHOOKS@\n", "")
            text = text.replace("@TESTHOOKS_MODULE@", TESTHOOKS_MODULE)
            text = text.replace("@TESTHOOKS_LOG@", th["log"])
            text = text.replace("@TESTHOOKS_FAIL@",
                                "TestHooksFail %s" % th["fail"] if th.get("fail") else "")
        subst = {
            "SERVER_ROOT": self.root,
            "PORT": str(self.port),
            "USER": HTTPD_USER,
            "GROUP": HTTPD_GROUP,
            "LIBEXECDIR": apxs_libexecdir(),
            "MODULE": MODULE,
            "START_SERVERS": str(self.start_servers),
            "SERVER_LIMIT": str(max(self.start_servers,
                                    -(-self.max_request_workers // self.threads_per_child))),
            "THREADS_PER_CHILD": str(self.threads_per_child),
            "MAX_REQUEST_WORKERS": str(self.max_request_workers),
            "DBD_MAX": str(self.dbd_max),
            "DBD_CONF": self.dbd_conf(),
            "LDAP_PORT": str(self.ldap_port),
            "BLACKHOLE_PORT": str(self.blackhole_port),
            "BLACKHOLE_LDAP_PORT": str(self.blackhole_ldap_port),
        }
        for k, v in subst.items():
            text = text.replace("@%s@" % k, v)
        head, sep, rest = text.partition("@EXTRA_CONF@")
        if not sep:
            raise HarnessError("template has no @EXTRA_CONF@")
        extra_line = head.count("\n") + 1
        extra = extra_conf.strip("\n")
        text = head + extra + rest
        left = re.findall(r"(?m)^[ \t]*[^#\s].*?(@[A-Z_]+@)", text)
        if left:
            raise HarnessError("template placeholders left: %s" % left)
        drop = tuple(d.lower() for d in omit)
        if not self.with_module:       # self-check of the harness without the module
            drop += ("loadmodule sdesk_module", "sdesk", "sethandler sdesk")
            text = text.replace(" sdesk:debug", "")
        if drop:
            out = []
            for line in text.split("\n"):
                s = " ".join(line.split()).lower()
                if s and not s.startswith("#") and any(
                        s == d or s.startswith(d + " ") or
                        (d == "sdesk" and s.startswith("sdesk")) for d in drop):
                    line = "# (omitted) " + line
                out.append(line)
            text = "\n".join(out)
        return text, extra_line

    def write_conf(self, path=None, extra_conf=None, omit=None):
        text, extra_line = self.render(extra_conf, omit)
        path = path or self.conf
        with open(path, "w") as f:
            f.write(text)
        return path, text, extra_line

    def configtest(self, extra_conf="", omit=()):
        """`apache2 -t` on a config with extra_conf at @EXTRA_CONF@ and the
        directives named in omit commented out. Returns ConfResult: a
        (exit code, output) tuple that also has .path, .extra_line, .line_of()."""
        self._n += 1
        path = os.path.join(self.root, "conf", "test-%03d.conf" % self._n)
        path, text, extra_line = self.write_conf(path, extra_conf, omit)
        p = run([APACHE2, "-t", "-f", path], check=False, timeout=60, env=httpd_env())
        return ConfResult(p.returncode, p.stdout, path, text, extra_line)

    def startcheck(self, extra_conf="", omit=(), settle=1.5, timeout=20):
        """Try to start httpd with that config. Returns ConfResult(rc, output):
        rc is httpd's exit code when it did not come up, 0 when it started
        (it is stopped again); output is its stderr plus its error log."""
        if self.running:
            raise HarnessError("startcheck on a running httpd")
        self._n += 1
        path = os.path.join(self.root, "conf", "start-%03d.conf" % self._n)
        path, text, extra_line = self.write_conf(path, extra_conf, omit)
        off = self.log_size()
        out_path = os.path.join(self.root, "logs", "start-%03d.out" % self._n)
        with open(out_path, "wb") as out:
            proc = subprocess.Popen([APACHE2, "-f", path, "-DFOREGROUND"], env=httpd_env(),
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.proc = proc
        _register(self)
        rc = None
        try:
            deadline = time.monotonic() + timeout
            up_since = None
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    rc = proc.returncode
                    break
                if up_since is None and port_open(self.port):
                    up_since = time.monotonic()
                if up_since is not None and time.monotonic() - up_since >= settle:
                    rc = 0
                    break
                time.sleep(0.05)
            else:
                rc = 0 if port_open(self.port) else -1
        finally:
            self.stop()
        with open(out_path, errors="replace") as f:
            output = f.read()
        output += self.read_log(off)
        return ConfResult(rc if rc is not None else -1, output, path, text, extra_line)

    # -- running --
    @property
    def pid(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return self.proc.pid if self.proc else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, extra_conf=None, omit=None, timeout=30):
        """Write the config and start httpd; wait until /static/1k.txt answers."""
        if self.running:
            raise HarnessError("httpd already running")
        if extra_conf is not None:
            self.extra_conf = extra_conf
        if omit is not None:
            self.omit = tuple(omit)
        self.write_conf()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.pidfile)
        off = self.log_size()
        with open(self.stdout_log, "ab") as out:
            self.proc = subprocess.Popen([APACHE2, "-f", self.conf, "-DFOREGROUND"],
                                         env=httpd_env(), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        _register(self)

        def died():
            if self.proc.poll() is not None:
                return ("httpd exited with %s at startup:\n%s\n%s" %
                        (self.proc.returncode, tail(self.stdout_log, 20), self.read_log(off)))
            return None
        try:
            wait_until(lambda: self._answers(), timeout, "httpd on port %d" % self.port,
                       interval=0.1, fail=died)
        except Exception:
            self.stop()
            raise
        self.started_at = time.monotonic()

    def _settle(self, timeout=5.0, least=0.1):
        """Before a stop: let every child finish starting. mpm_event (Debian's
        2.4) may crash a child told to stop while its threads are still being
        started (SIGSEGV under apr_os_sock_get in child_main; it happens
        without mod_sdesk too, after a few hundred quick restarts). Settled:
        `least` seconds since the server answered and every child has its
        listener and ThreadsPerChild workers (threads >= ThreadsPerChild + 2).
        Best effort: after timeout the stop goes ahead."""
        deadline = time.monotonic() + timeout
        time.sleep(max(0.0, getattr(self, "started_at", 0.0) + least - time.monotonic()))
        while time.monotonic() < deadline and self.proc is not None and self.proc.poll() is None:
            kids = child_pids(self.proc.pid)
            if kids and all(_threads(k) >= self.threads_per_child + 2 for k in kids):
                return
            time.sleep(0.05)

    def _answers(self):
        if not port_open(self.port):
            return False
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            # no keep-alive: a restart right after this probe would otherwise
            # meet the connection in mpm_event's keep-alive handling
            # (AH03093 "apr_pollset_add failure for keep alive" at shutdown)
            c.request("GET", "/static/1k.txt", headers={"Connection": "close"})
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except (OSError, http.client.HTTPException):
            return False

    def stop(self, timeout=20):
        if self.proc is not None:
            self._settle()
            pid = self.pid
            if pid and pid != self.proc.pid and pid_alive(pid):
                stop_pid(pid, timeout=timeout, with_children=True)
            stop_pid(self.proc.pid, timeout=timeout, popen=self.proc, with_children=True)
            self.proc.poll()
        _unregister(self)

    def restart(self, extra_conf=None, omit=None):
        """Stop and start again on the same ports (new config if given)."""
        self.stop()
        self.start(extra_conf=extra_conf, omit=omit)

    # -- error log --
    def log_size(self):
        try:
            return os.path.getsize(self.error_log)
        except OSError:
            return 0

    def read_log(self, offset=0):
        try:
            with open(self.error_log, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def bad_log_lines(text, allow=()):
    """Lines of text that match BAD_LOG_LINE and none of the allow regexes."""
    allow = [a if hasattr(a, "search") else re.compile(a) for a in allow]
    return [line for line in text.splitlines()
            if BAD_LOG_LINE.search(line) and not any(a.search(line) for a in allow)]


# ---- the stack ------------------------------------------------------------------

def _qmark_to_pyformat(sql):
    """DB-API `?` placeholders to psycopg2's %s (outside quotes); % doubled."""
    out, quote = [], None
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def make_session(base_url, user=None, password=None, timeout=30):
    """A requests.Session with Basic auth, ignoring proxy variables, with a
    default timeout; .base is base_url, .api(path) = base + /api/v1 + path."""
    import requests

    class Session(requests.Session):
        def request(self, method, url, **kw):
            kw.setdefault("timeout", timeout)
            return super().request(method, url, **kw)

    s = Session()
    s.trust_env = False
    if user is not None:
        s.auth = (user, password if password is not None else PASSWORDS[user])
    s.user = user
    s.base = base_url
    s.api = lambda path="": base_url + "/api/v1" + path
    return s


class Desk:
    """One running stack: slapd (shared), httpd and its database.

    Built by conftest.py's `desk` fixture and by tools/demo.py."""

    def __init__(self, root, backend, slapd, blackhole=None, pg=None, httpd_port=None,
                 **httpd_kw):
        self.root = os.path.abspath(root)
        self.backend = backend
        self.slapd = slapd
        self.pg = pg
        self.blackhole_server = blackhole
        os.makedirs(self.root, exist_ok=True)
        os.chmod(self.root, 0o755)
        # a PostgreSQL handed in belongs to another stack (Desk.peer): not ours to stop
        self.owns_pg = pg is None
        if backend == "pgsql" and pg is None:
            self.pg = Postgres(os.path.join(self.root, "pg"))
        self.httpd = Httpd(
            os.path.join(self.root, "httpd"), backend=backend, port=httpd_port,
            ldap_port=slapd.port, pg=self.pg,
            blackhole_port=free_port() if blackhole else None,
            blackhole_ldap_port=blackhole.port if blackhole else None, **httpd_kw)
        self.url = self.httpd.url
        self.base = self.url + "/sdesk"
        self.error_log = self.httpd.error_log
        self.users = USERS
        self.passwords = PASSWORDS
        self.log_scanned = 0            # error-log offset scanned up to (conftest.py)
        self.log_prev_allow = []        # allow regexes of the previous test
        self.startup_problems = []      # [warn]+ lines httpd logged at start()

    def start(self):
        if not self.slapd.running:
            self.slapd.start()
        if self.blackhole_server is not None and not self.blackhole_server.running:
            self.blackhole_server.start()
        if self.pg is not None:
            self.pg.setup()
            self.pg.start()
        off = self.httpd.log_size()
        self.httpd.start()
        # conftest.py scans the error log from here: startup lines count
        # against the first test
        self.log_scanned = off
        self.log_prev_allow = []
        self.startup_problems = bad_log_lines(self.httpd.read_log(off))
        return self

    def stop(self):
        self.httpd.stop()
        if self.pg is not None and self.owns_pg:
            self.pg.stop()

    def peer(self, name="b", **httpd_kw):
        """A second server on the same directory and database (pgsql): its
        own httpd (own ports and ServerRoot, root + "-" + name, same template
        and module) on this stack's slapd and PostgreSQL, as a second node
        behind a load balancer would be. Not started; its stop() leaves
        slapd and PostgreSQL running. httpd_kw as for Httpd (extra_conf,
        start_servers, ...)."""
        if self.backend != "pgsql":
            raise HarnessError("a second server shares the database: pgsql only")
        return Desk(self.root + "-" + name, self.backend, self.slapd, pg=self.pg, **httpd_kw)

    def ensure_up(self):
        """Start again whatever a test left stopped (slapd, PostgreSQL, httpd)."""
        if not self.slapd.running:
            self.slapd.start()
        if self.pg is not None and not self.pg.running:
            self.pg.start()
        if not self.httpd.running:
            self.httpd.start()

    # -- URLs and clients --
    def api(self, path=""):
        return self.base + "/api/v1" + path

    def alt(self, path=""):
        return self.url + "/altdesk/api/v1" + path

    def noauth(self, path=""):
        return self.url + "/noauth/api/v1" + path

    def blackhole(self, path=""):
        if self.httpd.blackhole_port is None:
            raise HarnessError("this stack has no blackhole virtual host")
        return "http://127.0.0.1:%d/sdesk/api/v1%s" % (self.httpd.blackhole_port, path)

    def client(self, user=None, password=None, base="/sdesk", timeout=30):
        """requests.Session authenticated as user (password from the README
        table when None; no auth when user is None)."""
        return make_session(self.url + base, user, password, timeout=timeout)

    # -- servers --
    def ldap_stop(self):
        self.slapd.stop()

    def ldap_start(self):
        self.slapd.start()

    def pg_restart(self):
        if self.pg is None:
            raise HarnessError("pg_restart on the %s backend" % self.backend)
        self.pg.restart()

    def restart_httpd(self, extra_conf=None):
        """Restart httpd on the same ports, with extra_conf at @EXTRA_CONF@
        ("" for none; None keeps the current one)."""
        self.httpd.restart(extra_conf=extra_conf)

    @contextlib.contextmanager
    def testhooks(self, fail=None, extra_conf=None):
        """with desk.testhooks() as log: ... -- httpd runs with the companion
        module (build/mod_sdesk_testhooks.so, `make testhooks`) loaded: its
        handler at /testhooks (Basic auth like /sdesk) and /testhooks-anon
        (none), every hook call appended as a JSON line to the file `log`
        (emptied first). fail: a hook name (or "all") that returns 500.
        extra_conf as in httpd_conf (None keeps the current one). The
        previous configuration is restored after the block."""
        if not os.path.exists(TESTHOOKS_MODULE):
            raise HarnessError("%s does not exist: run `make testhooks`" % TESTHOOKS_MODULE)
        log = os.path.join(self.httpd.root, "var", "testhooks.jsonl")
        open(log, "w").close()
        chown(log, HTTPD_USER, HTTPD_GROUP)
        before_th, before_conf = self.httpd.testhooks, self.httpd.extra_conf
        self.httpd.testhooks = {"log": log, "fail": fail}
        self.httpd.restart(extra_conf=extra_conf)
        try:
            yield log
        finally:
            self.httpd.testhooks = before_th
            self.httpd.restart(extra_conf=before_conf)

    @contextlib.contextmanager
    def httpd_conf(self, extra_conf):
        """with desk.httpd_conf("SdeskEntryTier 1"): ... -- httpd runs with that
        extra configuration inside the block and the previous one after."""
        before = self.httpd.extra_conf
        try:
            self.httpd.restart(extra_conf=extra_conf)
        except BaseException:
            # a config httpd refuses to start with is not left behind for the
            # following tests (conftest's ensure_up starts the previous one)
            self.httpd.extra_conf = before
            raise
        try:
            yield self
        finally:
            try:
                self.httpd.restart(extra_conf=before)
            finally:
                self.httpd.extra_conf = before

    # -- database --
    def db_query(self, sql, *params):
        """Rows (tuples) of sql, with DB-API `?` placeholders on both backends."""
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.httpd.sqlite_db, timeout=10)
            try:
                return [tuple(r) for r in conn.execute(sql, params).fetchall()]
            finally:
                conn.close()
        conn = self.pg.connect()
        try:
            cur = conn.cursor()
            cur.execute(_qmark_to_pyformat(sql), params)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []
        finally:
            conn.close()

    def db_exec(self, sql, *params):
        """Run one changing statement (test set-up only) and commit it."""
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.httpd.sqlite_db, timeout=10)
            try:
                conn.execute(sql, params)
                conn.commit()
            finally:
                conn.close()
            return
        conn = self.pg.connect()
        try:
            conn.cursor().execute(_qmark_to_pyformat(sql), params)
            conn.commit()
        finally:
            conn.close()

    def db_counts(self):
        """{table: row count} for the tables in DB_TABLES."""
        return {t: self.db_query("SELECT count(*) FROM %s" % t)[0][0] for t in DB_TABLES}

    # -- error log --
    def log_size(self):
        return self.httpd.log_size()

    def read_log(self, offset=0):
        return self.httpd.read_log(offset)
