"""A whole run: find files, lint each (in a pool when there are many), then the project phase."""

from __future__ import annotations

import copy
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from attrlint.core.config import Config, load_config, find_pyproject
from attrlint.lint.discovery import Excluder, iter_files
from attrlint.lint.engine import Linter, Options
from attrlint.lint.diagnostics import FileResult, Finding

POOL_THRESHOLD = 48  # below this many files a pool costs more than it saves
DEFAULT_TIMEOUT = 60.0  # seconds one file may take in a worker before it is skipped


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    results: list[FileResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    configs: list[Config] = field(default_factory=list)

    @property
    def files(self) -> int:
        return len(self.results)

    @property
    def parsed(self) -> int:
        return sum(1 for r in self.results if not r.skipped)


class ConfigResolver:
    """The nearest `[tool.attrlint]` for each directory, loaded once."""

    def __init__(self, explicit: Path | None) -> None:
        self.explicit = load_config(explicit) if explicit else None
        self._by_dir: dict[str, Config] = {}
        self._by_file: dict[Path | None, Config] = {}

    def for_path(self, path: str) -> Config:
        if self.explicit is not None:
            return self.explicit
        directory = os.path.dirname(os.path.abspath(path)) if not os.path.isdir(path) else os.path.abspath(path)
        config = self._by_dir.get(directory)
        if config is None:
            parent = self._by_dir.get(os.path.dirname(directory))
            if parent is not None and not os.path.exists(os.path.join(directory, "pyproject.toml")):
                self._by_dir[directory] = parent  # the nearest configuration is the parent's
                return parent
            pyproject = find_pyproject(Path(directory))
            config = self._by_file.get(pyproject)
            if config is None:
                config = load_config(pyproject, start=Path(directory))
                self._by_file[pyproject] = config
            self._by_dir[directory] = config
        return config

    def for_file(self, path: str) -> Config:
        """`for_path` for a path known to be a file (no stat)."""
        if self.explicit is not None:
            return self.explicit
        config = self._by_dir.get(os.path.dirname(os.path.abspath(path)))
        return config if config is not None else self.for_path(path)

    def all(self) -> list[Config]:
        if self.explicit is not None:
            return [self.explicit]
        return list(self._by_file.values())


def read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _read_keyed(path: str) -> tuple[bytes, os.stat_result]:
    with open(path, "rb") as handle:
        st = os.fstat(handle.fileno())
        return handle.read(), st


def lint_one(linter: Linter, path: str) -> FileResult:
    return lint_keyed(linter, path, keyed=False)[0]


Keyed = tuple  # (FileResult, os.stat_result | None, content digest | None)


def lint_keyed(linter: Linter, path: str, *, keyed: bool = True) -> Keyed:
    """Lint one file; with `keyed`, also return what the cache needs (its stat and digest)."""
    try:
        data, st = _read_keyed(path)
    except FileNotFoundError:
        return FileResult(path=path, warning=f"{path}: file disappeared during the run, skipped"), None, None
    except IsADirectoryError:
        return FileResult(path=path, warning=f"{path}: is a directory, skipped"), None, None
    except OSError as exc:
        return FileResult(path=path, warning=f"{path}: cannot read: {exc.strerror or exc}"), None, None
    if path.endswith(".ipynb"):
        from attrlint.lint.notebooks import lint_notebook

        result = lint_notebook(linter, path, data)
    else:
        result = linter.lint_bytes(data, path)
    if not keyed:
        return result, None, None
    from attrlint.lint.cache import digest

    return result, st, digest(data)


# -- process pool ----------------------------------------------------------------------------
#
# Workers are forked with the linters already built. Each worker records in a shared slot
# which file it is on and since when; the parent watches the slots, so a file that takes
# longer than the time limit gets its worker killed, and a worker that dies (a crash, the
# OOM killer) is noticed as a broken pool. Either way the files still in flight are rerun,
# each alone, to find the one responsible; it costs that file, not the run.

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
                yield position, self._failed(position, "the worker process died while checking it")
                continue
            left = [p for p in batch if p not in done and p not in suspects_out]
            todo.extend(left)
            suspects.extend(p for p in suspects_out if p not in done)

    def _failed(self, position: int, why: str) -> Keyed:
        if self.progress:
            self.progress(1)
        path = self.items[position][0]
        return FileResult(path=path, warning=f"{path}: skipped: {why}"), None, None

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
                            position, f"checking it took longer than {self.timeout:g} s (see --timeout)")
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


def run(
    paths: list[str],
    *,
    options: Options,
    config_path: Path | None = None,
    force_exclude: bool = False,
    jobs: int | None = None,
    project_rules: bool = True,
    today: object = None,
    use_cache: bool = False,
    cache_dir: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = False,
    warn: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
) -> RunResult:
    resolver = ConfigResolver(config_path)
    result = RunResult()
    linters: dict[int, Linter] = {}
    config_index: dict[int, int] = {}
    items: list[tuple[str, int]] = []

    def linter_for(config: Config) -> int:
        key = id(config)
        if key not in config_index:
            config_index[key] = len(config_index)
            linters[config_index[key]] = Linter(config, options)
        return config_index[key]

    def on_warning(message: str) -> None:
        result.warnings.append(message)
        warn(message)

    excluders: dict[int, Excluder] = {}
    for given in paths:
        root_config = resolver.for_path(given)
        excluder = excluders.get(id(root_config))
        if excluder is None:
            excluder = excluders[id(root_config)] = Excluder(root_config)
        for path in iter_files([given], excluder, force_exclude=force_exclude, on_warning=on_warning):
            items.append((path, linter_for(resolver.for_file(path))))

    jobs = jobs or default_jobs()
    result.results, digests, caches, from_cache = _lint_all(items, linters, jobs=jobs, timeout=timeout,
                                                            use_cache=use_cache, cache_dir=cache_dir,
                                                            progress=progress)
    for file_result in result.results:
        if file_result.warning:
            on_warning(file_result.warning)
        result.findings.extend(file_result.findings)
    result.configs = resolver.all()
    if project_rules:
        from attrlint.lint.project.phase import run_project_rules

        for index, linter in linters.items():
            positions = [p for p, (_, i) in enumerate(items) if i == index]
            group = [result.results[p] for p in positions]
            cache = caches.get(index)
            key = None
            if cache is not None and all(digests[p] is not None for p in positions):
                from attrlint.lint.cache import stable_repr

                key = cache.tree_key([(items[p][0], digests[p]) for p in positions], today,
                                     stable_repr((linter.config, sorted(linter.codes))))
                cached = cache.project_lookup(key)
                if cached is not None:  # same files, same contents, same configuration: same findings
                    result.findings.extend(cached)
                    continue
            if cache is not None:  # facts of cached files are loaded only now
                for p in positions:
                    if from_cache[p]:
                        result.results[p].facts = cache.facts_for(items[p][0])
            linter.analyse_fully = lambda paths, linter=linter: _analyse_fully(  # type: ignore[attr-defined]
                linter, paths, jobs=jobs, timeout=timeout)
            found = run_project_rules(linter, group, today=today)
            result.findings.extend(found)
            if key is not None:
                cache.project_store(key, found)
    result.findings.sort(key=Finding.sort_key)
    return result


def _analyse_fully(linter: Linter, paths: list[str], *, jobs: int, timeout: float) -> dict[str, FileResult]:
    """Analyse `paths` past the prefilter (for project-wide phases that need a skipped file's
    facts), in the process pool when there are many."""
    full = copy.copy(linter)
    full.prefilter = lambda text: True  # type: ignore[assignment]
    items = [(path, 0) for path in paths]
    return {paths[position]: keyed[0] for position, keyed in lint_items(items, {0: full}, jobs, timeout=timeout)}


def _lint_all(items: list[tuple[str, int]], linters: dict[int, Linter], *, jobs: int, timeout: float,
              use_cache: bool, cache_dir: str | None, progress: bool) -> tuple[list, list, dict, list]:
    """Results in the order of `items` (from the cache where it has them, else linted), the
    content digest of each file (None when unknown), the caches, and which results are cached
    (their facts are loaded only if the project phase runs)."""
    results: list[FileResult | None] = [None] * len(items)
    digests: list[bytes | None] = [None] * len(items)
    from_cache = [False] * len(items)
    todo = list(range(len(items)))
    caches = None
    if use_cache and items:
        from attrlint.lint.cache import digest, open_caches

        caches = open_caches(linters, cache_dir)
        todo = []
        for position, (path, index) in enumerate(items):
            cache = caches[index]
            try:
                st = os.stat(path)
            except OSError:
                todo.append(position)
                continue
            hit = cache.lookup(path, st)
            if hit is None and cache.known(path):
                try:
                    data, st = _read_keyed(path)
                except OSError:
                    todo.append(position)
                    continue
                hit = cache.lookup_digest(path, st, digest(data))
            if hit is None:
                todo.append(position)
            else:
                results[position], digests[position] = hit
                from_cache[position] = True
    bar = None
    if progress and todo:
        from attrlint.lint.progress import Progress

        bar = Progress.for_stderr(len(todo))
    try:
        subset = [items[p] for p in todo]
        for sub_position, (file_result, st, content_digest) in lint_items(
                subset, linters, jobs, bar.advance if bar else None, timeout=timeout, keyed=caches is not None):
            position = todo[sub_position]
            results[position] = file_result
            digests[position] = content_digest
            if caches is not None and st is not None and content_digest is not None:
                caches[items[position][1]].store(items[position][0], st, content_digest, file_result)
    finally:
        if bar is not None:
            bar.close()
    if caches is not None:
        for cache in caches.values():
            cache.flush()
    return results, digests, caches or {}, from_cache


def check_stdin(data: bytes, filename: str, *, options: Options, config_path: Path | None) -> RunResult:
    resolver = ConfigResolver(config_path)
    config = resolver.for_path(filename)
    linter = Linter(config, options)
    if filename.endswith(".ipynb"):
        from attrlint.lint.notebooks import lint_notebook

        file_result = lint_notebook(linter, filename, data)
    else:
        file_result = linter.lint_bytes(data, filename)
    return RunResult(findings=list(file_result.findings), results=[file_result], configs=[config])

