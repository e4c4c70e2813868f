"""A Spark cluster on this machine, started from the pinned pyspark: a standalone master, one
worker and a Thrift (HiveServer2) server submitted to that master, all on 127.0.0.1. It is the
endpoint a team reaches on EMR, Dataproc or its own cluster, so `TARGET=spark_thrift` runs
against it exactly as against theirs.

    make spark-cluster        start it (CES_SPARK_PORT, default 10000: the Thrift port)
    make spark-cluster-stop   stop it

The pyspark wheel ships the Thrift server's jar but not Spark's `sbin/` scripts; these only run
`spark-class` with the master's and the worker's classes, and `spark-submit --class
...HiveThriftServer2 spark-internal`, which is what this module does. The server's settings are
the spark target's (profiles/profiles.yml, one definition for the session and the cluster), with
its warehouse folder and Derby metastore under CES_SPARK_CLUSTER_DIR (default
warehouse/spark-cluster) and the master's URL as spark.master; the JVMs' scratch files go to
tmp/ there, not /tmp. The process ids and ports go to cluster.json there: `stop` reads them
(and removes tmp/ if a start made it), and a second `start` is refused while they run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

from cestools import config
from cestools.config import ROOT, Config
from cestools.engines.spark_engine import spark_conf
from cestools.engines.spark_thrift_engine import answers
from cestools.errors import CesError, run
from cestools.leftovers import is_alive
from cestools.ports import free_port, port_in_use

STATE = "cluster.json"
# stopped in this order: the server first, so no query is cut off by its executors going away
ROLES = ("thrift", "worker", "master")
THRIFT_SERVER = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
# Hive's function registry (hive-exec's FunctionRegistry) registers get_splits, whose class names
# an interface of hive-llap-common in a signature; Spark 4.0 dropped that jar (SPARK-51029), so
# the registry's static init fails with NoClassDefFoundError LlapSigner$Signable. The server
# initialises the registry when a session closes on a worker thread without a Hive client of
# its own, and then dbt's close failed, now and then. get_splits needs an LLAP daemon and is
# never called here: an empty interface of that name, on the server's class path, is enough
STAND_INS = "classes"
# the JVMs' scratch: java.io.tmpdir (Hive's session resource folders, native libraries) and
# SPARK_LOCAL_DIRS (shuffle and block files), inside the cluster's folder instead of /tmp,
# where a killed JVM left them behind. stop removes it only if it holds SCRATCH_MARK, the file
# the start that made it wrote: a tmp/ of the user's in that folder is never removed
SCRATCH = "tmp"
SCRATCH_MARK = ".made-by-ces-spark-cluster"
LLAP_SIGNABLE = "org/apache/hadoop/hive/llap/security/LlapSigner$Signable"
# HiveServer2 settings of the server (system properties, which its HiveConf reads). dbt opens a
# session for each model, and with impersonation on (doAs, Hive's default) each session's
# statements run as a user object of their own: the embedded metastore client is then made
# again for them, with a new HiveConf (XML parsed from the jars) and a new object store. That
# was about a third of the server's CPU samples. Here every session is the server's own OS user
# anyway (no Kerberos), so impersonation changes nothing but the cost. A statement also runs on
# a new thread until 100 exist (idle ones end after 10 s), and each new thread builds its own
# metastore store: 8 threads, kept, are reused instead. What they save: docs/engines.md (Spark)
HIVE_SERVER_OPTIONS = ("-Dhive.server2.enable.doAs=false", "-Dhive.server2.async.exec.threads=8",
                       "-Dhive.server2.async.exec.keepalive.time=86400s")


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def read_state(folder: Path) -> dict | None:
    """What a start recorded in folder's cluster.json, or None when there is no such file.
    CES_SPARK_CLUSTER_DIR may name a folder of the user's: a cluster.json there that a start did
    not write (not a record of this folder's cluster) is refused, so start never overwrites it
    and stop never deletes it."""
    folder = folder.resolve()
    path = folder / STATE
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        state = None
    if not (isinstance(state, dict) and state.get("folder") == str(folder)
            and isinstance(state.get("processes"), dict)):
        raise CesError(f"{path} was not written by `make spark-cluster` (it is not the record of a cluster "
                       f"started from {folder}), so it is left as it is: move it, or set "
                       "CES_SPARK_CLUSTER_DIR to another folder for the cluster.")
    return state


def write_state(state: dict) -> None:
    """Record a starting cluster in its folder's cluster.json (the record read_state accepts)."""
    (Path(state["folder"]) / STATE).write_text(json.dumps(state, indent=2))


# how far a process's start time may move from the one recorded: psutil adds the boot time,
# which the kernel gives in whole seconds and derives from the wall clock, so a small clock
# adjustment moves it a whole second (a 20-minute benchmark's cluster was taken for ended,
# and its JVMs were left running). A pid reused by another program starts far later.
START_TIME_SLACK = 5.0


def running(state: dict | None) -> dict[str, int]:
    """The processes of a recorded cluster that still run, by role. A pid is only counted when
    the process also started when the record says (within START_TIME_SLACK): a pid reused by
    another program is not ours."""
    import psutil

    alive = {}
    for role, (pid, started) in (state or {}).get("processes", {}).items():
        if not is_alive(pid):
            continue
        try:
            if abs(psutil.Process(pid).create_time() - started) <= START_TIME_SLACK:
                alive[role] = pid
        except psutil.Error:
            continue
    return alive


def write_interface_class(classes: Path, name: str) -> Path:
    """The class file of an empty public interface called name ('a/b/C$D'), under classes: the
    JVM's class file format (version 52, Java 8), with a constant pool of the two class names."""
    def utf8(text: str) -> bytes:
        data = text.encode()
        return struct.pack(">BH", 1, len(data)) + data

    def class_of(index: int) -> bytes:
        return struct.pack(">BH", 7, index)

    pool = [utf8(name), class_of(1), utf8("java/lang/Object"), class_of(3)]
    # public interface (abstract), this class #2, superclass #4; no interfaces, fields, methods
    # or attributes
    body = struct.pack(">7H", 0x0601, 2, 4, 0, 0, 0, 0)
    path = classes / f"{name}.class"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack(">IHHH", 0xCAFEBABE, 0, 52, len(pool) + 1) + b"".join(pool) + body)
    return path


def tmpdir_option(folder: Path) -> str:
    """The JVM option that puts java.io.tmpdir in the cluster folder's scratch."""
    return f"-Djava.io.tmpdir={folder / SCRATCH}"


def server_conf(cfg: Config, folder: Path, master_url: str) -> dict[str, str]:
    """The spark target's settings for a server whose warehouse and metastore are in folder."""
    conf = spark_conf(config.load({**(cfg.env or {}), "CES_SPARK_DIR": str(folder)}))
    memory = cfg.spark_worker_memory
    tmpdir = tmpdir_option(folder)
    driver_options = " ".join([conf.get("spark.driver.extraJavaOptions", ""), tmpdir, *HIVE_SERVER_OPTIONS]).strip()
    # the executors log as the server does (errors only): at Spark's default they wrote every
    # task's start and end, 2.5 MB a run into the worker's folder. Their working folder is the
    # worker's, so the profile's relative path is made absolute
    log_options = [f"-Dlog4j2.configurationFile={ROOT / option.split('=', 1)[1]}"
                   for option in driver_options.split() if option.startswith("-Dlog4j2.configurationFile=")]
    executor_options = " ".join(["-Duser.timezone=UTC", *log_options, tmpdir])
    return {**conf, "spark.master": master_url, "spark.cores.max": str(cfg.spark_cores),
            "spark.driver.extraJavaOptions": driver_options,
            # the worker is on this machine, so its executors read the same folder
            "spark.driver.extraClassPath": str(folder / STAND_INS),
            "spark.executor.extraClassPath": str(folder / STAND_INS),
            "spark.executor.memory": memory, "spark.executor.extraJavaOptions": executor_options,
            # a landing's insert carries 20,000 rows in its text (3 MB), and the server keeps the
            # text of its last statements, SQL executions, jobs and stages, even with no UI: 200
            # statements and 1,000 of the others by default. At 10M events the statements' plans
            # filled the driver's heap; at 30M the jobs' and executions' texts did (2.3 GB live
            # after about 7M rows, against 0.2 GB with 20 of each). Keep a few, plans cut to 64 KiB
            "spark.sql.thriftserver.ui.retainedStatements": "20",
            "spark.sql.thriftserver.ui.retainedSessions": "20",
            "spark.sql.ui.retainedExecutions": "20",
            "spark.ui.retainedJobs": "20",
            "spark.ui.retainedStages": "20",
            "spark.sql.maxPlanStringLength": "65536"}


def spawn(args: list[str], log: Path, env: dict[str, str]) -> tuple[int, float]:
    """Start a JVM in a session of its own (so stop ends it and whatever it started), its output
    in log; returns (pid, start time)."""
    import psutil

    with log.open("ab") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return proc.pid, psutil.Process(proc.pid).create_time()


def wait_for(what: str, ready, state: dict, folder: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        dead = [role for role in state["processes"] if role not in running(state)]
        if dead or time.monotonic() > deadline:
            stop_processes(state)
            (folder / STATE).unlink(missing_ok=True)
            remove_scratch(state)
            why = f"the {', '.join(dead)} process ended" if dead else f"it did not answer within {seconds:.0f} s"
            raise CesError(f"the Spark cluster did not start: {what}, but {why}. Its logs are in "
                           f"{folder / 'logs'}/ (java 17 on PATH or JAVA_HOME is needed; "
                           "`make spark-cluster-stop` is not needed, nothing was left running).")
        time.sleep(1)


def start(cfg: Config, folder: Path | None = None, wait: float = 240.0, log=print) -> dict:
    """Start master, worker and Thrift server; return the recorded state once a query answers."""
    folder = (folder or Path(cfg.spark_cluster_dir)).resolve()
    alive = running(read_state(folder))
    if alive:
        raise CesError(f"a Spark cluster started from {folder} is already running (process "
                       f"{', '.join(f'{role} {pid}' for role, pid in alive.items())}): run "
                       "`make spark-cluster-stop` first, or set CES_SPARK_CLUSTER_DIR for another one.")
    if port_in_use(cfg.spark_port):
        raise CesError(f"port {cfg.spark_port} on 127.0.0.1 is in use by another program: set CES_SPARK_PORT "
                       "to a free port for the Thrift server.")
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    home = spark_home()
    master_port = free_port()
    master_url = f"spark://127.0.0.1:{master_port}"
    scratch = folder / SCRATCH
    if not scratch.exists():
        scratch.mkdir()
        (scratch / SCRATCH_MARK).touch()
    env = {**os.environ, **(cfg.env or {}), "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOG_DIR": str(folder / "logs"), "SPARK_WORKER_DIR": str(folder / "work"),
           "SPARK_LOCAL_DIRS": str(scratch),
           "SPARK_DAEMON_JAVA_OPTS": f"{os.environ.get('SPARK_DAEMON_JAVA_OPTS', '')} {tmpdir_option(folder)}".strip(),
           "HIVE_SERVER2_THRIFT_PORT": str(cfg.spark_port), "HIVE_SERVER2_THRIFT_BIND_HOST": "127.0.0.1"}
    state = {"folder": str(folder), "master_url": master_url, "thrift_host": "127.0.0.1",
             "thrift_port": cfg.spark_port, "processes": {}}
    began = time.monotonic()

    log(f"[spark-cluster] master on {master_url}")
    state["processes"]["master"] = spawn(
        [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
         "--port", str(master_port), "--webui-port", str(free_port())], folder / "logs" / "master.log", env)
    write_state(state)
    wait_for("the master was started", lambda: port_in_use(master_port), state, folder, wait)

    log(f"[spark-cluster] worker: {cfg.spark_cores} cores, {cfg.spark_worker_memory} memory")
    state["processes"]["worker"] = spawn(
        [str(home / "bin" / "spark-class"), "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
         "--cores", str(cfg.spark_cores), "--memory", cfg.spark_worker_memory, "--webui-port", str(free_port()),
         "--work-dir", str(folder / "work"), master_url], folder / "logs" / "worker.log", env)
    write_state(state)

    log(f"[spark-cluster] Thrift server on 127.0.0.1:{cfg.spark_port}, warehouse and metastore in {folder}")
    write_interface_class(folder / STAND_INS, LLAP_SIGNABLE)
    conf = [arg for key, value in server_conf(cfg, folder, master_url).items() for arg in ("--conf", f"{key}={value}")]
    state["processes"]["thrift"] = spawn(
        [str(home / "bin" / "spark-submit"), "--class", THRIFT_SERVER, "--name", "ces-thrift-server", *conf,
         "spark-internal"], folder / "logs" / "thrift.log", env)
    write_state(state)
    wait_for("the Thrift server was submitted", lambda: answers("127.0.0.1", cfg.spark_port, cfg.spark_user),
             state, folder, wait)
    log(f"[spark-cluster] up in {time.monotonic() - began:.0f} s. Build on "
        f"it with: make build TARGET=spark_thrift CES_SPARK_HOST=127.0.0.1 CES_SPARK_PORT={cfg.spark_port} "
        f"CES_THREADS={cfg.spark_cores}; "
        "stop it with: make spark-cluster-stop")
    return state


def stop_processes(state: dict, grace: float = 20.0) -> list[str]:
    """End the recorded processes that still run (SIGTERM, then SIGKILL after grace seconds),
    the server first; returns what was stopped."""
    alive = running(state)
    stopped = []
    for role in ROLES:
        pid = alive.get(role)
        if pid is None:
            continue
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + grace
        while is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                os.waitpid(pid, os.WNOHANG)  # reap it when this process started it
            except ChildProcessError:
                pass
        if is_alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        stopped.append(f"{role} {pid}")
    return stopped


def remove_scratch(state: dict) -> None:
    """Remove the JVMs' scratch folder of a stopped cluster, if a start made it (it holds
    SCRATCH_MARK)."""
    scratch = Path(state["folder"]) / SCRATCH
    if (scratch / SCRATCH_MARK).is_file():
        shutil.rmtree(scratch, ignore_errors=True)


def stop(cfg: Config, folder: Path | None = None, log=print) -> list[str]:
    folder = (folder or Path(cfg.spark_cluster_dir)).resolve()
    state = read_state(folder)
    if state is None:
        log(f"[spark-cluster] no cluster was started from {folder}: nothing to stop")
        return []
    stopped = stop_processes(state)
    (folder / STATE).unlink()
    remove_scratch(state)
    log(f"[spark-cluster] stopped {', '.join(stopped) if stopped else 'nothing (its processes had ended)'}; "
        f"the warehouse and metastore stay in {folder}")
    return stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A Spark standalone cluster and Thrift server on 127.0.0.1.")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, default=None, help="default: CES_SPARK_CLUSTER_DIR")
    args = parser.parse_args(argv)
    cfg = config.load()
    if args.action == "start":
        start(cfg, args.dir)
    else:
        stop(cfg, args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
