#!/usr/bin/env python3
"""Whole-process benchmark of `attrlint check` against ruff, flake8, semgrep and fixit.

Every figure is the wall time of a whole process (start-up included), the median of
--repeat runs after one untimed warm-up run, over the corpora built by
shared/bench/corpus.sh (`llm/`: pinned LLM-heavy PyPI packages, `stdlib/`: CPython's
standard library). Each figure is printed with its ratio to ruff on the same files and,
where attrlint has one, its target.

    pip install -e . && python benchmarks/lint_bench.py
    python benchmarks/lint_bench.py --repeat 7 --markdown bench.md --json bench.json
    python benchmarks/lint_bench.py --attrlint-cmd "python -m attrlint" --only cold,precommit

A tool that fails shows as "failed: <its error>" in its row; a peer that cannot be had
is skipped with a note. The run as a whole does not fail because of either.
See benchmarks/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = HERE / "peers"
VENVS = Path(
    os.environ.get("ATTRLINT_BENCH_VENVS", Path.home() / ".cache" / "attrlint-bench" / "venvs")
)

GROUPS = (
    "cold",
    "warm",
    "precommit",
    "flake8-plugin",
    "memory",
    "semgrep",
    "fixit",
    "flake8",
    "stats",
)
# Rows whose tools take minutes per run over a corpus; --slow-repeat applies to them.
SLOW = ("flake8-plugin", "semgrep", "fixit", "flake8")

# A file "contains an LLM call" for the pre-commit sample if it has one of these.
LLM_CALL = re.compile(
    rb"\.(?:chat\.completions|completions|messages|responses|embeddings)\.create\(|\b(?:a?completion|acompletion)\("
)
FIXIT_SUBSET = 500
PRECOMMIT_FILES = 10


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    wall: float
    code: int
    cpu: float  # user + sys of the whole tree that was waited for
    maxrss_kb: int  # largest single process of the tree (wait4's ru_maxrss)
    tree_rss_kb: int = 0  # peak of the summed RSS of all live processes of the tree (sampled)
    stderr: str = ""


def _ppid_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(name))
    return children


def _tree_rss_kb(root: int) -> int:
    children = _ppid_map()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            pass
    return total


def run_once(
    cmd: list[str],
    *,
    cwd: Path,
    env: dict[str, str] | None,
    timeout: float,
    sample_tree: bool = False,
) -> Run:
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,  # its own process group, killed whole if we are stopped
            )
        except OSError as exc:
            return Run(0.0, 127, 0.0, 0, stderr=f"{cmd[0]}: {exc.strerror or exc}")
        peak = 0
        stop = threading.Event()

        def sampler() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, _tree_rss_kb(proc.pid))
                stop.wait(0.02)

        thread = threading.Thread(target=sampler, daemon=True) if sample_tree else None
        if thread:
            thread.start()
        deadline = start + timeout
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    os.killpg(proc.pid, signal.SIGKILL)
                    pid, status, usage = os.wait4(proc.pid, 0)
                    status = -1
                    break
                time.sleep(0.002)
        except BaseException:  # Ctrl-C, SIGTERM: take the tool's whole process group along
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        wall = time.perf_counter() - start
        proc.returncode = 0  # reaped by wait4; keep Popen from trying again
        if thread:
            stop.set()
            thread.join()
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    code = -1 if status == -1 else os.waitstatus_to_exitcode(status)
    if status == -1:
        text = f"timed out after {timeout:.0f} s\n" + text
    return Run(wall, code, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, peak, text)


# Exit code 1 means "findings" to ruff, flake8 and fixit, but a crash can exit 1 too.
CRASH = re.compile(
    r"Traceback \(most recent call last\)|critical error during execution|No module named "
)


def error_line(stderr: str, code: int) -> str:
    lines = [
        ln.strip()
        for ln in stderr.splitlines()
        if ln.strip() and not ln.startswith("WARNING: Location")
    ]
    if not lines:
        return f"exit code {code}"
    # A Python traceback's first line says nothing; its last line says what went wrong.
    line = lines[-1] if lines[0].startswith("Traceback") else lines[0]
    return line[:120]


@dataclass
class Result:
    key: str
    label: str
    corpus: str
    files: int | None
    cmd: list[str]
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    maxrss_kb: int = 0
    tree_rss_kb: int = 0
    error: str | None = None
    note: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times and not self.error else None

    def as_json(self) -> dict:
        return {
            "label": self.label,
            "corpus": self.corpus,
            "files": self.files,
            "cmd": self.cmd,
            "times_s": self.times,
            "median_s": self.median,
            "cpu_s": self.cpu,
            "max_rss_single_process_mb": round(self.maxrss_kb / 1024, 1)
            if self.maxrss_kb
            else None,
            "peak_rss_process_tree_mb": round(self.tree_rss_kb / 1024, 1)
            if self.tree_rss_kb
            else None,
            "error": self.error,
            "note": self.note,
        }


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir  # neutral cwd: no config files of any tool above or in it
        self.results: dict[str, Result] = {}

    def measure(
        self,
        key: str,
        label: str,
        corpus: str,
        cmd: list[str],
        *,
        files: int | None = None,
        ok: tuple[int, ...] = (0,),
        repeat: int | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        sample_tree: bool = False,
    ) -> Result:
        res = Result(key, label, corpus, files, cmd)
        self.results[key] = res
        repeat = repeat or self.args.repeat
        log(f"[bench] {label} ({corpus}): warm-up + {repeat} runs: {shlex.join(cmd)[:160]}")
        for i in range(repeat + 1):
            r = run_once(
                cmd,
                cwd=cwd or self.workdir,
                env=env,
                timeout=self.args.timeout,
                sample_tree=sample_tree,
            )
            if r.code not in ok or CRASH.search(r.stderr):
                res.error = "failed: " + error_line(r.stderr, r.code)
                log(f"[bench]   {res.error}")
                return res
            res.maxrss_kb = max(res.maxrss_kb, r.maxrss_kb)
            res.tree_rss_kb = max(res.tree_rss_kb, r.tree_rss_kb)
            if i:  # run 0 is the warm-up
                res.times.append(r.wall)
                res.cpu.append(r.cpu)
            log(f"[bench]   {'warm-up' if not i else f'run {i}'}: {r.wall:.3f} s")
        return res

    def skip(self, key: str, label: str, corpus: str, why: str) -> Result:
        res = Result(key, label, corpus, None, [], error=f"skipped: {why}")
        self.results[key] = res
        log(f"[bench] {label}: skipped: {why}")
        return res


# --------------------------------------------------------------------------- tools


def tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(
            cmd, check=False, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    text = (out.stdout or out.stderr).strip()
    if out.returncode != 0:
        return "unavailable (" + error_line(out.stderr, out.returncode) + ")"
    return " ".join(text.splitlines()[0].split()) if text else "?"


def peer_venv(name: str, packages: list[str], exe: str) -> tuple[Path | None, str | None]:
    """A venv under VENVS/name holding `packages`, made once; returns (bin/exe, None) or (None, why)."""
    venv = VENVS / name
    marker = venv / ".attrlint-bench"
    wanted = "\n".join(packages)
    binary = venv / "bin" / exe
    if marker.exists() and marker.read_text() == wanted and binary.exists():
        return binary, None
    log(f"[bench] installing {' '.join(packages)} into {venv} (once)")
    try:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True
        )
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *packages,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    except subprocess.CalledProcessError as exc:
        return (
            None,
            f"pip install {' '.join(packages)} failed: {error_line(exc.stderr or '', exc.returncode)}",
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"could not make venv {venv}: {exc}"
    if not binary.exists():
        return None, f"{binary} missing after install"
    marker.write_text(wanted)
    return binary, None


def attrlint_runtime_deps(src: Path) -> list[str]:
    """attrlint's [project].dependencies, for the venv in which flake8 loads it from source."""
    pyproject = src / "pyproject.toml"
    try:
        import tomllib

        data = tomllib.loads(pyproject.read_text())
        return [d for d in data["project"]["dependencies"] if "python_version <" not in d]
    except Exception:  # noqa: BLE001 - no tomllib, no file: fall back to the known set
        return ["libcst>=1.1", "click>=8.1", "genai-prices>=0.0.30"]


def local_exe(name: str) -> str | None:
    """`name` from this Python's environment (its bin/ need not be on PATH), else from PATH."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


def resolve_attrlint(cmd: str) -> list[str]:
    argv = shlex.split(cmd)
    if argv == ["attrlint"]:
        exe = local_exe("attrlint")
        return [exe] if exe else [sys.executable, "-m", "attrlint"]
    return argv


# --------------------------------------------------------------------------- corpora


def find_corpus(args: argparse.Namespace) -> Path:
    if args.corpus:
        return Path(args.corpus).resolve()
    script = (
        Path(args.corpus_script)
        if args.corpus_script
        else REPO.parent / "shared" / "bench" / "corpus.sh"
    )
    if not script.is_absolute():
        script = (REPO / script).resolve()
    log(f"[bench] corpus: {script}")
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"lint_bench: {script} failed: {error_line(out.stderr, out.returncode)}")
    return Path(out.stdout.strip().splitlines()[-1])


def py_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if p.is_file())


def spread(items: list, n: int) -> list:
    """n items evenly spaced over a sorted list: deterministic, and across every package."""
    if len(items) <= n:
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def precommit_sample(files: list[Path]) -> tuple[list[Path], int]:
    """Ten files as a commit might touch: half with LLM calls, half without, of modest size."""
    with_calls, without = [], []
    for p in files:
        try:
            if p.stat().st_size > 60_000:
                continue
            (with_calls if LLM_CALL.search(p.read_bytes()) else without).append(p)
        except OSError:
            continue
    half = PRECOMMIT_FILES // 2
    picked = spread(with_calls, half)
    picked += spread(without, PRECOMMIT_FILES - len(picked))
    return picked, min(len(with_calls), half)


def make_subset(files: list[Path], root: Path, dest: Path, n: int) -> int:
    for p in spread(files, n):
        target = dest / p.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, target)
    return min(n, len(files))


# --------------------------------------------------------------------------- machine


def machine(tools: dict[str, str]) -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": f"{os.cpu_count()} logical, {usable} usable",
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        **tools,
    }


# --------------------------------------------------------------------------- report


@dataclass
class Row:
    label: str
    corpus: str
    files: str
    figure: str
    ratio: str
    target: str
    verdict: str


def _ratio(a: float | None, b: float | None, ref: str) -> str:
    if a is None or not b:
        return "-"
    return f"{a / b:.2f}x {ref}"


def build_rows(results: dict[str, Result]) -> list[Row]:
    rows: list[Row] = []

    def get(key: str) -> Result | None:
        return results.get(key)

    def add(
        key: str,
        ref_key: str | None,
        ref_name: str,
        target: float | None,
        target_text: str,
        absolute: float | None = None,
    ) -> None:
        res = get(key)
        if res is None:
            return
        files = str(res.files) if res.files is not None else "-"
        if res.error:
            rows.append(Row(res.label, res.corpus, files, res.error, "-", target_text, "-"))
            return
        ref = get(ref_key) if ref_key else None
        ratio_val = res.median / ref.median if ref and ref.median and res.median else None
        fig = f"{res.median:.3f} s"
        verdict = "-"
        if absolute is not None and res.median is not None:
            verdict = "ok" if res.median <= absolute else "OVER"
        elif target is not None and ratio_val is not None:
            verdict = "ok" if ratio_val <= target else "OVER"
        rows.append(
            Row(
                res.label,
                res.corpus,
                files,
                fig,
                _ratio(res.median, ref.median if ref else None, ref_name),
                target_text,
                verdict,
            )
        )

    add("ruff.llm", "ruff.llm", "ruff", None, "reference")
    add("ruff.stdlib", "ruff.stdlib", "ruff", None, "reference")
    add("attrlint.cold.llm", "ruff.llm", "ruff", 3.0, "<= 3x ruff")
    add("attrlint.cold.stdlib", "ruff.stdlib", "ruff", 1.5, "<= 1.5x ruff")
    add("attrlint.warm.llm", "ruff.llm", "ruff", 0.5, "<= 0.5x ruff cold")
    add("ruff.precommit", "ruff.precommit", "ruff", None, "reference")
    add("attrlint.precommit", "ruff.precommit", "ruff", None, "<= 0.35 s", absolute=0.35)
    add("flake8.base.stdlib", "ruff.stdlib", "ruff", None, "-")
    res = get("flake8.plugin.stdlib")
    if res is not None:
        base = get("flake8.base.stdlib")
        if res.error:
            rows.append(
                Row(
                    res.label,
                    res.corpus,
                    str(res.files or "-"),
                    res.error,
                    "-",
                    "<= 1.10x flake8",
                    "-",
                )
            )
        else:
            r = res.median / base.median if base and base.median else None
            rows.append(
                Row(
                    res.label,
                    res.corpus,
                    str(res.files),
                    f"{res.median:.3f} s",
                    _ratio(res.median, base.median if base else None, "flake8"),
                    "<= 1.10x flake8",
                    "-" if r is None else ("ok" if r <= 1.10 else "OVER"),
                )
            )
    add("flake8.base.llm", "ruff.llm", "ruff", None, "-")
    add("semgrep.llm", "ruff.llm", "ruff", None, "-")
    add("ruff.subset", "ruff.subset", "ruff", None, "reference")
    add("fixit.subset", "ruff.subset", "ruff", None, "-")
    add("attrlint.subset", "ruff.subset", "ruff", None, "-")

    for key, limit in (("ruff.memory.llm", None), ("attrlint.memory.llm", 300.0)):
        res = get(key)
        if res is None:
            continue
        if res.error:
            rows.append(
                Row(
                    res.label,
                    res.corpus,
                    str(res.files or "-"),
                    res.error,
                    "-",
                    "<= 300 MB" if limit else "reference",
                    "-",
                )
            )
            continue
        tree = res.tree_rss_kb / 1024
        single = res.maxrss_kb / 1024
        ref = get("ruff.memory.llm")
        ref_tree = ref.tree_rss_kb / 1024 if ref and not ref.error and ref.tree_rss_kb else None
        verdict = "-" if limit is None else ("ok" if tree <= limit else "OVER")
        rows.append(
            Row(
                res.label,
                res.corpus,
                str(res.files),
                f"{tree:.0f} MB tree, {single:.0f} MB largest process",
                _ratio(tree, ref_tree, "ruff"),
                "<= 300 MB" if limit else "reference",
                verdict,
            )
        )
    return rows


HEAD = ("measurement", "corpus", "files", "median / peak", "ratio", "target", "verdict")


def text_table(rows: list[Row]) -> str:
    cells = [HEAD] + [
        (r.label, r.corpus, r.files, r.figure, r.ratio, r.target, r.verdict) for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEAD))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(HEAD))).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    out = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for r in rows:
        out.append(
            "| "
            + " | ".join(
                c.replace("|", "\\|")
                for c in (r.label, r.corpus, r.files, r.figure, r.ratio, r.target, r.verdict)
            )
            + " |"
        )
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="timed runs per figure, after one warm-up (default 5; at least 5 for published figures)",
    )
    p.add_argument(
        "--slow-repeat",
        type=int,
        default=None,
        help=f"timed runs for the slow rows ({', '.join(SLOW)}); default: --repeat",
    )
    p.add_argument(
        "--corpus", help="corpus directory holding llm/ and stdlib/ (default: run --corpus-script)"
    )
    p.add_argument(
        "--corpus-script",
        help="script that builds the corpora and prints their directory (default: ../shared/bench/corpus.sh from the repo root)",
    )
    p.add_argument(
        "--attrlint-cmd",
        default="attrlint",
        help='how to run attrlint, e.g. "python -m attrlint" (default: attrlint, else python -m attrlint)',
    )
    p.add_argument(
        "--attrlint-src",
        default=str(REPO),
        help="attrlint source tree whose flake8 plugin is measured (default: this repository)",
    )
    p.add_argument(
        "--ruff",
        default=local_exe("ruff"),
        help="ruff executable (default: this Python's, else PATH, else installed into the bench venvs)",
    )
    p.add_argument("--only", help=f"comma-separated groups to run: {','.join(GROUPS)}")
    p.add_argument("--skip", help="comma-separated groups to leave out")
    p.add_argument(
        "--flake8-llm",
        action="store_true",
        help="also time plain flake8 over llm/ (several minutes per run)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=1800,
        help="seconds before one run is killed (default 1800)",
    )
    p.add_argument("--markdown", help="also write the table as Markdown to this file")
    p.add_argument("--json", help="also write the raw figures as JSON to this file")
    args = p.parse_args(argv)
    if args.repeat < 1 or (args.slow_repeat is not None and args.slow_repeat < 1):
        p.error("--repeat and --slow-repeat must be at least 1")
    groups = set(GROUPS) - {"flake8"}  # plain flake8 over llm/ takes minutes a run: opt in
    if args.only:
        groups = {g.strip() for g in args.only.split(",") if g.strip()}
    if args.skip:
        groups -= {g.strip() for g in args.skip.split(",")}
    unknown = groups - set(GROUPS)
    if unknown:
        p.error(f"unknown group(s): {', '.join(sorted(unknown))}; known: {', '.join(GROUPS)}")
    if args.flake8_llm:
        groups.add("flake8")
    args.groups = groups
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through run_once's cleanup
    slow = args.slow_repeat or args.repeat
    corpus = find_corpus(args)
    llm, stdlib = corpus / "llm", corpus / "stdlib"
    for d in (llm, stdlib):
        if not d.is_dir():
            sys.exit(f"lint_bench: {d} is not a directory")
    llm_files, stdlib_files = py_files(llm), py_files(stdlib)
    n_llm, n_std = len(llm_files), len(stdlib_files)
    attrlint = resolve_attrlint(args.attrlint_cmd)
    src = Path(args.attrlint_src).resolve()

    tools: dict[str, str] = {"attrlint": tool_version([*attrlint, "--version"])}
    ruff = args.ruff
    if not ruff:
        found, why = peer_venv("ruff", ["ruff"], "ruff")
        ruff = str(found) if found else None
        if why:
            log(f"[bench] ruff: {why}")
    tools["ruff"] = tool_version([ruff, "--version"]) if ruff else "unavailable"

    with tempfile.TemporaryDirectory(prefix="attrlint-bench-") as tmp_s:
        tmp = Path(tmp_s)
        work = tmp / "cwd"
        work.mkdir()
        bench = Bench(args, work)
        R = bench.results

        def ruff_cmd(*targets: Path) -> list[str]:
            return [ruff, "check", "--no-cache", "--select", "S105,S106", *map(str, targets)]

        if ruff:
            bench.measure(
                "ruff.llm",
                "ruff check --select S105,S106",
                "llm",
                ruff_cmd(llm),
                files=n_llm,
                ok=(0, 1),
            )
            bench.measure(
                "ruff.stdlib",
                "ruff check --select S105,S106",
                "stdlib",
                ruff_cmd(stdlib),
                files=n_std,
                ok=(0, 1),
            )
        else:
            bench.skip(
                "ruff.llm",
                "ruff check --select S105,S106",
                "llm",
                "ruff not found; ratios are not computed",
            )

        if "cold" in args.groups:
            for name, d, n in (("llm", llm, n_llm), ("stdlib", stdlib, n_std)):
                bench.measure(
                    f"attrlint.cold.{name}",
                    "attrlint check, cold (--no-cache)",
                    name,
                    [*attrlint, "check", "--no-cache", "--exit-zero", str(d)],
                    files=n,
                )

        if "warm" in args.groups:
            cache = tmp / "attrlint-cache"
            cmd = [*attrlint, "check", "--exit-zero", "--cache-dir", str(cache), str(llm)]
            fill = run_once(cmd, cwd=work, env=None, timeout=args.timeout)  # fills the cache
            if fill.code != 0:
                R["attrlint.warm.llm"] = Result(
                    "attrlint.warm.llm",
                    "attrlint check, warm cache",
                    "llm",
                    n_llm,
                    cmd,
                    error="failed: " + error_line(fill.stderr, fill.code),
                )
            else:
                bench.measure(
                    "attrlint.warm.llm", "attrlint check, warm cache", "llm", cmd, files=n_llm
                )

        if "precommit" in args.groups:
            sample, with_calls = precommit_sample(llm_files)
            corpus_note = f"llm ({with_calls} w/ calls)"
            if ruff:
                bench.measure(
                    "ruff.precommit",
                    "ruff check, 10 files",
                    corpus_note,
                    ruff_cmd(*sample),
                    files=len(sample),
                    ok=(0, 1),
                )
            bench.measure(
                "attrlint.precommit",
                "attrlint check, 10 files, cold",
                corpus_note,
                [*attrlint, "check", "--no-cache", "--exit-zero", *map(str, sample)],
                files=len(sample),
            )
            (tmp / "precommit-files.txt").write_text("\n".join(map(str, sample)))
            R["attrlint.precommit"].note = "files: " + ", ".join(
                str(p.relative_to(llm)) for p in sample
            )

        if "flake8-plugin" in args.groups:
            label_base, label_plug = "flake8 (no attrlint)", "flake8 + attrlint plugin"
            flake8, why = peer_venv("flake8", ["flake8", *attrlint_runtime_deps(src)], "flake8")
            if flake8 is None:
                bench.skip("flake8.base.stdlib", label_base, "stdlib", why)
            else:
                tools["flake8"] = tool_version([str(flake8), "--version"])
                base = [str(flake8), str(stdlib)]
                bench.measure(
                    "flake8.base.stdlib",
                    label_base,
                    "stdlib",
                    base,
                    files=n_std,
                    ok=(0, 1),
                    repeat=slow,
                )
                # The same flake8 in the same venv, with attrlint's plugin registered exactly as
                # its entry point would register it (flake8 runs every registered plugin on every
                # file whatever --select says; --select only filters what is reported).
                cfg = tmp / "flake8-attrlint.cfg"
                cfg.write_text(
                    f"[flake8:local-plugins]\nextension =\n    ATR = attrlint.lint.flake8_plugin:Plugin\npaths = {src}\n"
                )
                plug = [str(flake8), "--append-config", str(cfg), str(stdlib)]
                bench.measure(
                    "flake8.plugin.stdlib",
                    label_plug,
                    "stdlib",
                    plug,
                    files=n_std,
                    ok=(0, 1),
                    repeat=slow,
                )
                if "flake8" in args.groups:
                    bench.measure(
                        "flake8.base.llm",
                        "flake8 (default plugins)",
                        "llm",
                        [str(flake8), str(llm)],
                        files=n_llm,
                        ok=(0, 1),
                        repeat=slow,
                    )
        elif "flake8" in args.groups:
            flake8, why = peer_venv("flake8", ["flake8", *attrlint_runtime_deps(src)], "flake8")
            if flake8 is None:
                bench.skip("flake8.base.llm", "flake8 (default plugins)", "llm", why)
            else:
                tools["flake8"] = tool_version([str(flake8), "--version"])
                bench.measure(
                    "flake8.base.llm",
                    "flake8 (default plugins)",
                    "llm",
                    [str(flake8), str(llm)],
                    files=n_llm,
                    ok=(0, 1),
                    repeat=slow,
                )

        if "semgrep" in args.groups:
            semgrep, why = peer_venv("semgrep", ["semgrep"], "semgrep")
            if semgrep is None:
                bench.skip("semgrep.llm", "semgrep, 1 rule", "llm", why)
            else:
                # No version check and no metrics: both reach out to the network and stall here.
                env = {
                    **os.environ,
                    "SEMGREP_ENABLE_VERSION_CHECK": "0",
                    "SEMGREP_SEND_METRICS": "off",
                }
                tools["semgrep"] = tool_version(
                    [str(semgrep), "--version", "--disable-version-check"]
                )
                cmd = [
                    str(semgrep),
                    "scan",
                    "--config",
                    str(PEERS / "semgrep_attribution.yaml"),
                    "--metrics=off",
                    "--disable-version-check",
                    "--quiet",
                    "--no-git-ignore",
                    "--max-target-bytes=0",
                    str(llm),
                ]
                bench.measure(
                    "semgrep.llm",
                    "semgrep scan, 1 rule",
                    "llm",
                    cmd,
                    files=n_llm,
                    ok=(0, 1),
                    repeat=slow,
                    env=env,
                )

        if "fixit" in args.groups:
            subset = tmp / "subset"
            n_sub = make_subset(llm_files, llm, subset, FIXIT_SUBSET)
            label = f"llm {n_sub}-file subset"
            fixit, why = peer_venv("fixit", ["fixit"], "fixit")
            if ruff:
                bench.measure(
                    "ruff.subset",
                    "ruff check --select S105,S106",
                    label,
                    ruff_cmd(subset),
                    files=n_sub,
                    ok=(0, 1),
                )
            if fixit is None:
                bench.skip("fixit.subset", "fixit lint, 1 rule", label, why)
            else:
                tools["fixit"] = tool_version([str(fixit), "--version"])
                env = {**os.environ, "PYTHONPATH": str(PEERS)}
                cmd = [str(fixit), "--rules", "fixit_attribution", "lint", str(subset)]
                # fixit exits non-zero when it reports findings (1) or files it cannot parse (2).
                bench.measure(
                    "fixit.subset",
                    "fixit lint, 1 rule",
                    label,
                    cmd,
                    files=n_sub,
                    ok=(0, 1, 2, 3),
                    repeat=slow,
                    env=env,
                )
            if "cold" in args.groups:
                bench.measure(
                    "attrlint.subset",
                    "attrlint check, cold (--no-cache)",
                    label,
                    [*attrlint, "check", "--no-cache", "--exit-zero", str(subset)],
                    files=n_sub,
                )

        if "memory" in args.groups:
            mem_repeat = (
                1  # memory does not vary the way time does; one sampled run after the warm-up
            )
            if ruff:
                bench.measure(
                    "ruff.memory.llm",
                    "ruff, peak memory",
                    "llm",
                    ruff_cmd(llm),
                    files=n_llm,
                    ok=(0, 1),
                    repeat=mem_repeat,
                    sample_tree=True,
                )
            bench.measure(
                "attrlint.memory.llm",
                "attrlint check, peak memory",
                "llm",
                [*attrlint, "check", "--no-cache", "--exit-zero", str(llm)],
                files=n_llm,
                repeat=mem_repeat,
                sample_tree=True,
            )

        stats: dict[str, str] = {}
        if "stats" in args.groups:
            for name, d in (("llm", llm), ("stdlib", stdlib)):
                r = subprocess.run(
                    [*attrlint, "check", "--statistics", "--exit-zero", "--no-cache", str(d)],
                    check=False,
                    capture_output=True,
                    text=True,
                    cwd=work,
                    stdin=subprocess.DEVNULL,
                )
                lines = [ln for ln in (r.stderr + "\n" + r.stdout).splitlines() if ln.strip()]
                if r.returncode != 0:
                    stats[name] = "failed: " + error_line(r.stderr, r.returncode)
                else:
                    keep = [
                        ln for ln in lines if re.search(r"prefilter|files?\b", ln, re.IGNORECASE)
                    ][:10] or lines[-5:]
                    stats[name] = "\n".join(keep) or "(no output)"

    rows = build_rows(R)
    info = machine(tools)
    repeat_note = f"median of {args.repeat} runs after 1 warm-up" + (
        f" ({slow} for {', '.join(SLOW)})" if slow != args.repeat else ""
    )
    out = ["attrlint benchmark: wall time of whole processes, " + repeat_note, ""]
    out += [f"  {k:<9} {v}" for k, v in info.items()]
    out += [
        f"  {'corpus':<9} {corpus}  (llm: {n_llm} .py files, stdlib: {n_std} .py files)",
        "",
        text_table(rows),
    ]
    notes = [f"{r.label}: {r.note}" for r in R.values() if r.note]
    if notes:
        out += ["", *notes]
    if stats:
        out += ["", "attrlint check --statistics:"]
        for name, text in stats.items():
            out += [f"  [{name}]", *("    " + ln for ln in text.splitlines())]
    print("\n".join(out))

    if args.markdown:
        md = [f"Wall time of whole processes, {repeat_note}.", ""]
        md += [f"- **{k}**: {v}" for k, v in info.items()]
        md += [
            f"- **corpus**: llm {n_llm} files, stdlib {n_std} files",
            "",
            markdown_table(rows),
            "",
        ]
        Path(args.markdown).write_text("\n".join(md))
    if args.json:
        payload = {
            "machine": info,
            "corpus": {"dir": str(corpus), "llm_files": n_llm, "stdlib_files": n_std},
            "repeat": args.repeat,
            "slow_repeat": slow,
            "results": {k: v.as_json() for k, v in R.items()},
            "statistics": stats,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
