"""A whole run: find files, lint each (in a pool when there are many), then the project phase."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .config import Config, load_config, find_pyproject
from .discovery import Excluder, iter_files
from .engine import Linter, Options
from .types import FileResult, Finding

POOL_THRESHOLD = 48  # below this many files a pool costs more than it saves


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
            pyproject = find_pyproject(Path(directory))
            config = self._by_file.get(pyproject)
            if config is None:
                config = load_config(pyproject, start=Path(directory))
                self._by_file[pyproject] = config
            self._by_dir[directory] = config
        return config

    def all(self) -> list[Config]:
        if self.explicit is not None:
            return [self.explicit]
        return list(self._by_file.values())


def read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def lint_one(linter: Linter, path: str) -> FileResult:
    try:
        if path.endswith(".ipynb"):
            from .notebooks import lint_notebook

            return lint_notebook(linter, path, read_file(path))
        data = read_file(path)
    except FileNotFoundError:
        return FileResult(path=path, warning=f"{path}: file disappeared during the run, skipped")
    except IsADirectoryError:
        return FileResult(path=path, warning=f"{path}: is a directory, skipped")
    except OSError as exc:
        return FileResult(path=path, warning=f"{path}: cannot read: {exc.strerror or exc}")
    return linter.lint_bytes(data, path)


# -- process pool ----------------------------------------------------------------------------

_WORKER_LINTERS: dict[int, Linter] = {}


def _worker_init(linters: dict[int, Linter]) -> None:
    _WORKER_LINTERS.update(linters)


def _worker_lint(item: tuple[str, int]) -> FileResult:
    path, index = item
    return lint_one(_WORKER_LINTERS[index], path)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def lint_items(items: list[tuple[str, int]], linters: dict[int, Linter], jobs: int,
               progress: Callable[[int], None] | None = None) -> Iterator[FileResult]:
    if jobs <= 1 or len(items) < POOL_THRESHOLD:
        for path, index in items:
            yield lint_one(linters[index], path)
            if progress:
                progress(1)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    chunksize = max(1, min(64, len(items) // (jobs * 8)))
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init, initargs=(linters,)) as pool:
        for result in pool.map(_worker_lint, items, chunksize=chunksize):
            yield result
            if progress:
                progress(1)


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
            items.append((path, linter_for(resolver.for_path(path))))

    for file_result in lint_items(items, linters, jobs or default_jobs()):
        if file_result.warning:
            on_warning(file_result.warning)
        result.results.append(file_result)
        result.findings.extend(file_result.findings)
    result.configs = resolver.all()
    if project_rules:
        from .project import run_project_rules

        for index, linter in linters.items():
            group = [r for (path, i), r in zip(items, result.results) if i == index]
            result.findings.extend(run_project_rules(linter, group, today=today))
    result.findings.sort(key=Finding.sort_key)
    return result


def check_stdin(data: bytes, filename: str, *, options: Options, config_path: Path | None) -> RunResult:
    resolver = ConfigResolver(config_path)
    config = resolver.for_path(filename)
    linter = Linter(config, options)
    if filename.endswith(".ipynb"):
        from .notebooks import lint_notebook

        file_result = lint_notebook(linter, filename, data)
    else:
        file_result = linter.lint_bytes(data, filename)
    return RunResult(findings=list(file_result.findings), results=[file_result], configs=[config])


def iter_findings(results: Iterable[FileResult]) -> Iterator[Finding]:
    for r in results:
        yield from r.findings
