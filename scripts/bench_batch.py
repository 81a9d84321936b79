#!/usr/bin/env python3
"""Batch scoring at scale: throughput by worker count, peak memory by call count, and kill/resume integrity.

Every run is the real CLI (``callcoach score``) in a subprocess; peak memory
is the summed RSS (and PSS, which counts shared pages once) of its whole
process tree, polled from /proc every 0.25 s.

    python scripts/bench_batch.py                      # throughput: --workers 1 vs default on 20 demo-length calls
    python scripts/bench_batch.py --calls 10           # the same on 10 calls
    python scripts/bench_batch.py --memory 10 1000     # peak memory on 10 vs 1,000 short calls (default workers)
    python scripts/bench_batch.py --kill-resume 1000   # kill a 1,000-call run midway, resume, check counts and files
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "audio_samples"
DEMO = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".wav", ".flac", ".mp3", ".ogg"))
CALLCOACH = Path(sys.executable).with_name("callcoach")


# ----------------------------------------------------------------- measuring


def _tree(root: int) -> list[int]:
    """``root`` and all its descendants (from /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB; zeros when it has gone."""
    try:
        rss = next(int(l.split()[1]) for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0, 0
    try:
        pss = next(int(l.split()[1]) for l in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines() if l.startswith("Pss:"))
    except (OSError, StopIteration):
        pss = rss
    return rss, pss


class PeakMemory(threading.Thread):
    """Polls a process tree until stopped; ``rss_mb`` and ``pss_mb`` are the peaks of the sums."""

    def __init__(self, pid: int, every_s: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.every_s = pid, every_s
        self.rss_mb = self.pss_mb = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            sizes = [_memory_kb(p) for p in _tree(self.pid)]
            self.rss_mb = max(self.rss_mb, sum(s[0] for s in sizes) / 1024)
            self.pss_mb = max(self.pss_mb, sum(s[1] for s in sizes) / 1024)
            time.sleep(self.every_s)

    def stop(self) -> None:
        self.done.set()
        self.join()


def score(src: Path, out: Path, *extra: str, log: Path | None = None, kill_after_scored: int | None = None) -> dict:
    """Run ``callcoach score`` (optionally killing it once ``kill_after_scored`` calls are logged as scored)."""
    cmd = [str(CALLCOACH), "score", str(src), "--out", str(out), "--quiet", *extra]
    if log:
        cmd += ["--log-file", str(log)]
    t0 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    peak = PeakMemory(proc.pid)
    peak.start()
    killed = False
    if kill_after_scored is not None:
        assert log is not None
        offset, seen = (log.stat().st_size if log.exists() else 0), 0
        while proc.poll() is None:
            if log.exists():
                with log.open("rb") as fh:  # read only what was appended
                    fh.seek(offset)
                    new = fh.read()
                offset += len(new)
                seen += new.count(b" scored ")
            if seen >= kill_after_scored:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.2)
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    peak.stop()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI and its workers, once reaped
    cpu_s = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"rc": proc.returncode, "wall_s": wall, "cpu_s": cpu_s, "rss_mb": peak.rss_mb, "pss_mb": peak.pss_mb, "stderr": err, "killed": killed}


def _audio_s(out: Path) -> float:
    with sqlite3.connect(out / "callcoach.sqlite") as db:
        return db.execute("SELECT COALESCE(SUM(duration_s), 0) FROM calls WHERE status = 'scored'").fetchone()[0]


# ------------------------------------------------------------------- inputs


def demo_calls(folder: Path, n: int) -> Path:
    """``n`` demo-length calls (49-73 s): the demo recordings in turn, each copy its own call."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        src = DEMO[i % len(DEMO)]
        shutil.copy(src, folder / f"{src.stem}-{i:03d}{src.suffix}")
    return folder


def short_calls(folder: Path, n: int) -> Path:
    """``n`` tiny calls (about 2.5 s, the agent's greeting) from 3 TTS clips with different gains and noise."""
    from callsynth.shortcalls import write_short_call

    for i in range(n):
        write_short_call(folder / f"{i // 100:02d}" / f"c{i:04d}.wav", i % 3, gain=0.6 + 0.4 * ((i * 7) % 10) / 10,
                         seed=i, agent_only=True)
    return folder


# -------------------------------------------------------------------- modes


def throughput(n: int, tmp: Path) -> None:
    src = demo_calls(tmp / "demo", n)
    rows = []
    for label, extra in (("1", ("--workers", "1")), ("default", ())):
        out = tmp / f"out-{label}"
        r = score(src, out, *extra)
        if r["rc"] not in (0, 1):
            sys.exit(f"callcoach failed:\n{r['stderr']}")
        with sqlite3.connect(out / "callcoach.sqlite") as db:
            workers = db.execute("SELECT workers FROM runs").fetchone()[0]
        audio = _audio_s(out)
        rows.append((f"{label} ({workers})", n, audio / 60, r["wall_s"], n / r["wall_s"] * 60, audio / r["wall_s"],
                     r["cpu_s"], r["cpu_s"] / r["wall_s"], r["rss_mb"], r["pss_mb"]))
    print(f"\nthroughput on {n} demo-length calls ({os.cpu_count()} CPUs visible; load average at start {os.getloadavg()[0]:.1f})\n")
    print("| workers | calls | audio min | wall s | calls/min | x real time | CPU s | cores busy | peak RSS MB | peak PSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.1f} | {r[6]:.0f} | {r[7]:.2f} | {r[8]:.0f} | {r[9]:.0f} |")
    print(f"\nspeed-up of the default over one worker: {rows[1][4] / rows[0][4]:.2f}x "
          f"(the most it can be is cores / cores busy with one worker: {(os.cpu_count() or 1) / rows[0][7]:.2f}x)")


def memory(sizes: list[int], tmp: Path, extra: tuple[str, ...]) -> None:
    print(f"\npeak memory by number of calls (short calls, workers: {' '.join(extra) or 'default'})\n")
    print("| calls | wall s | calls/min | peak RSS MB | peak PSS MB |")
    print("|---|---|---|---|---|")
    for n in sizes:
        src = short_calls(tmp / f"short-{n}", n)
        r = score(src, tmp / f"out-mem-{n}", *extra)
        print(f"| {n} | {r['wall_s']:.1f} | {n / r['wall_s'] * 60:.1f} | {r['rss_mb']:.0f} | {r['pss_mb']:.0f} |", flush=True)


def kill_resume(n: int, tmp: Path, extra: tuple[str, ...]) -> None:
    src = short_calls(tmp / "short", n)
    out, log = tmp / "out-kr", tmp / "run.log"
    first = score(src, out, *extra, log=log, kill_after_scored=n // 2)
    second = score(src, out, *extra, log=log)
    runs, current = [], None
    for line in log.read_text(encoding="utf-8").splitlines():
        kind = line.split()[1]
        if kind == "run":
            current = {"scored": [], "skipped": [], "failed": []}
            runs.append(current)
        elif kind in ("scored", "skipped", "failed"):
            current[kind].append(line.split()[2])
    with sqlite3.connect(out / "callcoach.sqlite") as db:
        status = dict(db.execute("SELECT status, COUNT(*) FROM calls GROUP BY status").fetchall())
        run_rows = db.execute("SELECT run_id, status, n_scored, n_skipped, n_failed FROM runs ORDER BY run_id").fetchall()
    bad_json = 0
    for path in out.glob("*.json"):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            bad_json += 1
    a, b = runs[0], runs[1]
    twice = set(a["scored"]) & set(b["scored"])
    checks = {
        "first run was killed": first["killed"],
        "resumed run exit 0": second["rc"] == 0,
        f"store: {n} scored": status.get("scored") == n and not status.get("failed"),
        "no call scored in both runs (log)": not twice,
        "no call scored twice (runs table)": sum(r[2] for r in run_rows) == n,
        "resumed run skipped what the killed run committed": run_rows[1][3] == run_rows[0][2],
        f"{n} JSON files, all parse": len(list(out.glob("*.json"))) == n and bad_json == 0,
        "no half-written files left": not list(out.glob(".*.tmp")),
        "calls.csv rows": sum(1 for _ in (out / "calls.csv").open(encoding="utf-8")) - 1 == n,
    }
    print(f"\nkill/resume on {n} short calls (workers: {' '.join(extra) or 'default'})\n")
    print("| run | exit | wall s | scored | skipped | failed | peak RSS MB | peak PSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for label, r, row in (("killed midway", first, run_rows[0]), ("resumed", second, run_rows[1])):
        print(f"| {label} | {r['rc']} | {r['wall_s']:.1f} | {row[2]} | {row[3]} | {row[4]} | {r['rss_mb']:.0f} | {r['pss_mb']:.0f} |")
    print()
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if not all(checks.values()):
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20, help="demo-length calls for the throughput table (default 20)")
    parser.add_argument("--memory", type=int, nargs="+", metavar="N", help="peak memory over these numbers of short calls")
    parser.add_argument("--kill-resume", type=int, metavar="N", help="kill a run of N short calls midway, resume, check")
    parser.add_argument("--workers", type=int, help="workers for --memory and --kill-resume (default: callcoach's default)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary folder)")
    args = parser.parse_args()
    extra = ("--workers", str(args.workers)) if args.workers else ()
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as t:
        tmp = args.keep or Path(t)
        tmp.mkdir(parents=True, exist_ok=True)
        if args.memory:
            memory(args.memory, tmp, extra)
        if args.kill_resume:
            kill_resume(args.kill_resume, tmp, extra)
        if not args.memory and not args.kill_resume:
            throughput(args.calls, tmp)


if __name__ == "__main__":
    main()
