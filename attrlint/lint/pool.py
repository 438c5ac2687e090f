"""Linting many files: one at a time, or in a watched pool of forked workers.

Workers are forked with the linters already built. Each worker records in a shared slot
which file it is on and since when; the parent watches the slots, so a file that takes
longer than the time limit gets its worker killed, and a worker that dies (a crash, the
OOM killer) is noticed as a broken pool. Either way the files still in flight are rerun,
each alone, to find the one responsible; it costs that file, not the run.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator

from attrlint.lint.diagnostics import FileResult
from attrlint.lint.discovery import SOURCE_SUFFIXES, is_data_file
from attrlint.lint.engine import Linter

POOL_THRESHOLD = 48  # below this many files a pool costs more than it saves
DEFAULT_TIMEOUT = 60.0  # seconds one file may take in a worker before it is skipped


def read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def read_keyed(path: str) -> tuple[bytes, os.stat_result]:
    with open(path, "rb") as handle:
        st = os.fstat(handle.fileno())
        return handle.read(), st


def lint_one(linter: Linter, path: str) -> FileResult:
    return lint_keyed(linter, path, keyed=False)[0]


Keyed = tuple  # (FileResult, os.stat_result | None, content digest | None)


def lint_keyed(linter: Linter, path: str, *, keyed: bool = True) -> Keyed:
    """Lint one file; with `keyed`, also return what the cache needs (its stat and digest)."""
    try:
        data, st = read_keyed(path)
    except FileNotFoundError:
        return FileResult(path=path, warning=f"{path}: not checked: the file disappeared during the run; "
                                             "run again"), None, None
    except IsADirectoryError:
        return FileResult(path=path, warning=f"{path}: not checked: it is a directory now; run again"), None, None
    except OSError as exc:
        return FileResult(path=path, warning=f"{path}: cannot read: {exc.strerror or exc}; fix its permissions "
                                             "or exclude it"), None, None
    if path.endswith(".ipynb"):
        from attrlint.lint.notebooks import lint_notebook

        result = lint_notebook(linter, path, data)
    elif is_data_file(path) and not path.endswith(SOURCE_SUFFIXES):
        result = linter.lint_data(data, path)
    else:
        result = linter.lint_bytes(data, path)
    if not keyed:
        return result, None, None
    from attrlint.lint.cache import digest

    return result, st, digest(data)


_WORKER: dict[str, object] = {}
_SLOT_WIDTH = 3  # item position, start time, pid


def _worker_init(linters: dict[int, Linter], slots, counter, keyed: bool) -> None:
    with counter.get_lock():
        slot = counter.value
        counter.value += 1
    _WORKER.update(linters=linters, slots=slots, slot=slot, keyed=keyed,
                   crash_on=os.environ.get("ATTRLINT_TEST_CRASH_ON"),
                   hang_on=os.environ.get("ATTRLINT_TEST_HANG_ON"))
    base = slot * _SLOT_WIDTH
    slots[base], slots[base + 2] = -1, os.getpid()


def _worker_task(chunk: list[tuple[int, str, int]]) -> list[tuple[int, Keyed]]:
    import time

    linters = _WORKER["linters"]
    slots = _WORKER["slots"]
    base = _WORKER["slot"] * _SLOT_WIDTH  # type: ignore[operator]
    out = []
    for position, path, index in chunk:
        slots[base + 1] = time.monotonic()  # type: ignore[index]
        slots[base] = position  # type: ignore[index]
        name = os.path.basename(path)
        if name == _WORKER["crash_on"]:
            os.kill(os.getpid(), signal.SIGKILL)
        if name == _WORKER["hang_on"]:
            time.sleep(10**6)
        out.append((position, lint_keyed(linters[index], path, keyed=bool(_WORKER["keyed"]))))  # type: ignore[index]
        slots[base] = -1  # type: ignore[index]
    return out


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def lint_items(items: list[tuple[str, int]], linters: dict[int, Linter], jobs: int,
               progress: Callable[[int], None] | None = None, *, timeout: float = DEFAULT_TIMEOUT,
               keyed: bool = False, threshold: int = POOL_THRESHOLD) -> Iterator[tuple[int, Keyed]]:
    """Lint `items` (path, linter index); yield (position in items, keyed result) as they finish."""
    if jobs <= 1 or len(items) < threshold:
        for position, (path, index) in enumerate(items):
            yield position, lint_keyed(linters[index], path, keyed=keyed)
            if progress:
                progress(1)
        return
    yield from _Pool(items, linters, jobs, timeout, keyed, progress).run()


class _Pool:
    def __init__(self, items, linters, jobs, timeout, keyed, progress) -> None:
        self.items, self.linters, self.jobs = items, linters, jobs
        self.timeout, self.keyed, self.progress = timeout, keyed, progress

    def run(self) -> Iterator[tuple[int, Keyed]]:
        todo = list(range(len(self.items)))
        suspects: list[int] = []
        while todo or suspects:
            if todo:
                batch, todo = todo, []
                jobs = self.jobs
            else:  # one suspect at a time, alone in its pool
                batch, suspects = [suspects[0]], suspects[1:]
                jobs = 1
            done: set[int] = set()
            suspects_out: list[int] = []
            for position, keyed in self._batch(batch, jobs, done, suspects_out):
                yield position, keyed
                if self.progress:
                    self.progress(1)
            if len(batch) == 1 and batch[0] not in done and suspects_out:
                position = batch[0]
                path = self.items[position][0]
                yield position, self._failed(position, "the worker process died while checking it (a crash, or out "
                                                       f"of memory); run `attrlint check {path}` alone to see why")
                continue
            left = [p for p in batch if p not in done and p not in suspects_out]
            todo.extend(left)
            suspects.extend(p for p in suspects_out if p not in done)

    def _failed(self, position: int, why: str) -> Keyed:
        if self.progress:
            self.progress(1)
        path = self.items[position][0]
        return FileResult(path=path, warning=f"{path}: not checked: {why}"), None, None

    def _batch(self, batch: list[int], jobs: int, done: set[int], suspects: list[int]) -> Iterator[tuple[int, Keyed]]:
        import multiprocessing
        import time
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        context = multiprocessing.get_context(method)
        jobs = max(1, min(jobs, len(batch)))
        slots = context.Array("d", jobs * _SLOT_WIDTH, lock=False)
        for i in range(jobs):
            slots[i * _SLOT_WIDTH] = -1
        counter = context.Value("i", 0)
        chunksize = max(1, min(16, len(batch) // (jobs * 16)))
        chunks = [[(p, *self.items[p]) for p in batch[i:i + chunksize]] for i in range(0, len(batch), chunksize)]
        pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init,
                                   initargs=(self.linters, slots, counter, self.keyed))
        timed_out: set[int] = set()
        try:
            futures = {pool.submit(_worker_task, chunk) for chunk in chunks}
            while futures:
                finished, futures = wait(futures, timeout=0.25, return_when=FIRST_COMPLETED)
                for future in finished:
                    chunk_results = future.result()  # BrokenProcessPool when a worker died
                    for position, keyed in chunk_results:
                        done.add(position)
                        yield position, keyed
                now = time.monotonic()
                for i in range(jobs):
                    base = i * _SLOT_WIDTH
                    position = int(slots[base])
                    if position >= 0 and position not in timed_out and now - slots[base + 1] > self.timeout:
                        timed_out.add(position)
                        done.add(position)
                        yield position, self._failed(
                            position, f"checking it took longer than {self.timeout:g} s; raise --timeout, "
                                      "or exclude the file")
                        try:
                            os.kill(int(slots[base + 2]), signal.SIGKILL)
                        except OSError:
                            pass
        except BrokenProcessPool:
            for i in range(jobs):
                position = int(slots[i * _SLOT_WIDTH])
                if position >= 0 and position not in done:
                    suspects.append(position)
            if timed_out and len(batch) > 1:
                # the parent killed a hung worker: the others in flight are innocent
                suspects.clear()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


