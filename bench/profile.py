"""py-spy on a benchmark's server during one extra closed-loop run, and a summary of its samples
(self and inclusive shares by function; idle pool threads left out)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import PY, Server, sayer
from bench.loadgen import Spec
from bench.makers import Pool, load

say = sayer("profile")


def _py_spy() -> str | None:
    local = Path(PY).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def profile(
    server: Server,
    pool: Pool,
    seconds: float,
    connections: int,
    workers: int,
    tmp: Path,
    tag: str,
    folder: Path,
    n: int,
) -> dict[str, Any]:
    """py-spy the server during one more closed-loop run (not counted: sampling costs)."""
    spy_bin = _py_spy()
    if spy_bin is None:
        say("  --profile: py-spy not found (pip install py-spy), skipped")
        return {"skipped": "py-spy not installed"}
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / f"{tag}.folded"
    duration = max(2, round(seconds))
    spy = subprocess.Popen(  # noqa: S603 - py-spy on our own server
        [
            *(spy_bin, "record", "--pid", str(server.proc.pid), "--rate", "250"),
            *(("--subprocesses",) if workers > 1 else ()),
            *("--nonblocking", "--duration", str(duration), "--format", "raw"),
            *("--output", str(raw)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        time.sleep(0.5)  # let py-spy attach
        load(
            Spec(
                server.port,
                "",
                "closed",
                connections=connections,
                seconds=duration + 1,
                label=f"{tag}-profiled",
                watch_pids=[server.proc.pid],
            ),
            pool.take(n),
            tmp,
        )
    finally:
        try:
            _, err_b = spy.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            _, err_b = spy.communicate()
    if not raw.exists() or raw.stat().st_size == 0:
        err = (err_b or b"").decode(errors="replace").strip()[-300:]
        say(f"  py-spy wrote nothing: {err}")
        return {"skipped": f"py-spy failed: {err}"}
    summary = summarise_folded(raw)
    summary["file"] = str(raw)
    return summary


def _frame_key(frame: str) -> str:
    """'function (path/to/file.py:123)' → 'file-ish:function' without the line number."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{name}"


# Leaf frames of threads that merely wait (py-spy's idle detection misses blocked pool threads).
IDLE_LEAVES = frozenset(
    {
        "threading.py:Condition.wait",
        "threading.py:Event.wait",
        "concurrent/futures/thread.py:_worker",
        "queue.py:Queue.get",
        "selectors.py:EpollSelector.select",
    }
)


def summarise_folded(path: Path, top: int = 25) -> dict[str, Any]:
    """Self and inclusive shares of the busy samples, by function (py-spy's raw stacks)."""
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = idle = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        frames = [_frame_key(f) for f in stack.split(";") if "(" in f]
        if not frames or frames[-1] in IDLE_LEAVES:
            idle += count
            continue
        total += count
        self_c[frames[-1]] += count
        for f in set(frames):
            incl[f] += count

    def share(c: Counter[str], keep: Callable[[str], bool]) -> list[list[Any]]:
        items = [(k, v) for k, v in c.most_common() if keep(k)][:top]
        return [[k, round(100 * v / max(1, total), 1)] for k, v in items]

    ours = "fieldpunch/"
    return {
        "samples": total,
        "idle_thread_samples_dropped": idle,
        "self_pct": share(self_c, lambda _: True),
        "inclusive_pct_fieldpunch": share(incl, lambda k: k.startswith(ours) or "bench/" in k),
        "inclusive_pct_libraries": share(incl, lambda k: not k.startswith(ours)),
    }


# One database -----------------------------------------------------------------------------------
