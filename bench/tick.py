"""The tick over the whole fleet: two running `flask jobs worker --queue tick` processes, one `flask jobs tick`.

    .venv/bin/python -m bench.tick              # after bench.seed; prints the timings, returns them to bench.run

Measured: the `flask jobs tick` command's wall time (CLI start, listing families, queueing the jobs of up to
BATCH_SIZE families each), and from its start until the workers have run every job (queue and started-job registry
empty); the families the jobs ticked (their "tick batch" log lines) and job time per family. Jobs a worker finds
expired (not started within their minute) are counted apart: their families' minute was missed.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import fleet

WORKERS = 2
LIMIT_SECONDS = 300.0


def say(message: str) -> None:
    print(f"[tick {time.strftime('%H:%M:%S')}] {message}", flush=True)


def measure(results_dir: Path) -> dict[str, Any]:
    """Run one fleet tick with WORKERS workers and return what it took."""
    import redis
    from rq import Queue

    from app import create_app
    from app.jobs.tick import BATCH_SIZE, tick_queue_name
    from config import config_from_env

    app = create_app(config_from_env())
    with app.app_context():
        name = tick_queue_name()
    connection = redis.Redis.from_url(os.environ["REDIS_URL"])
    queue = Queue(name, connection=connection)
    queue.empty()
    # Ids a worker popped but never ran (jobs that expired unstarted in an earlier run) wait in RQ's intermediate
    # queue; a starting worker's maintenance fetches and LREMs them one by one, which after a run with thousands of
    # expired jobs kept a worker busy for the whole measured minute.
    connection.delete(queue.intermediate_queue_key)
    env = {**os.environ}
    logs = [results_dir / f"tick-worker-{i}.log" for i in range(WORKERS)]
    workers = []
    for log in logs:
        with log.open("wb") as out:
            workers.append(subprocess.Popen([str(fleet.BIN / "flask"), "jobs", "worker", "--queue", "tick"],
                                            cwd=fleet.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True))
    try:
        deadline = time.monotonic() + 120
        while not all("Listening on" in log.read_text(errors="replace") for log in logs):
            if time.monotonic() > deadline:
                raise SystemExit("tick workers did not start")
            time.sleep(0.5)
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        say(f"{WORKERS} workers listening; load {load}; running `flask jobs tick`")
        started = time.perf_counter()
        command = subprocess.run([str(fleet.BIN / "flask"), "jobs", "tick"], cwd=fleet.ROOT, env=env,
                                 capture_output=True, text=True, timeout=600)
        queued_seconds = time.perf_counter() - started
        if command.returncode != 0:
            raise SystemExit(f"flask jobs tick failed:\n{command.stdout}{command.stderr}")
        say(command.stdout.strip())
        while time.perf_counter() - started < LIMIT_SECONDS:
            if queue.count == 0 and queue.started_job_registry.count == 0:
                break
            time.sleep(0.2)
        total_seconds = time.perf_counter() - started
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)  # its own session: this worker only
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
    text = "".join(log.read_text(errors="replace") for log in logs)
    done = len(re.findall(r"Job OK", text))
    failed = len(re.findall(r"Traceback|Job failed|moved to FailedJobRegistry", text))
    queued = re.search(r"tick: (\d+) families queued in (\d+) jobs", command.stdout)
    families, jobs = int(queued.group(1)), int(queued.group(2))  # type: ignore[union-attr]
    ticked = sum(int(n) for n in re.findall(r"tick batch \S+: (\d+) families ticked", text))
    batch_ms = [float(ms) for ms in re.findall(r"tick batch \S+: .*, (\d+) ms", text)]
    batch_cpu_ms = [float(ms) for ms in re.findall(r"tick batch \S+: .*\(CPU (\d+) ms\)", text)]
    result = {"families": families, "jobs": jobs, "batch_size": BATCH_SIZE, "jobs_run": done, "jobs_failed": failed,
              "jobs_expired": jobs - done - failed, "families_ticked": ticked,
              "ms_per_family": round(sum(batch_ms) / ticked, 2) if ticked else None,
              "cpu_ms_per_family": round(sum(batch_cpu_ms) / ticked, 2) if ticked else None,
              "command_seconds": round(queued_seconds, 1), "total_seconds": round(total_seconds, 1),
              "workers": WORKERS, "load_before": load,
              "load_after": " ".join(Path("/proc/loadavg").read_text().split()[:3])}
    say(f"{ticked:,} of {families:,} families ticked by {done} of {jobs} jobs in {total_seconds:.1f} s (the command "
        f"itself {queued_seconds:.1f} s; {result['ms_per_family']} ms of job time, "
        f"{result['cpu_ms_per_family']} ms CPU per family), {failed} failed, "
        f"{result['jobs_expired']} jobs expired unstarted; load after {result['load_after']}")
    return result


def main() -> int:
    fleet.apply_env()
    os.environ.setdefault("BASE_DOMAIN", "localhost:7801")
    sys.path.insert(0, str(fleet.ROOT))
    results_dir = fleet.ROOT / "instance" / "bench-results"
    results_dir.mkdir(parents=True, exist_ok=True)
    measure(results_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
