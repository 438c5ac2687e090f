"""A whole run: find files, lint each (in a pool when there are many), then the project phase."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from attrlint.core.config import CONFIG_NAMES, Config, find_config_file, load_config
from attrlint.core.dates import today_utc
from attrlint.lint.diagnostics import FileResult, Finding
from attrlint.lint.discovery import (
    SOURCE_SUFFIXES,
    Excluder,
    is_data_file,
    iter_data_files,
    iter_files,
)
from attrlint.lint.engine import Linter
from attrlint.lint.pool import DEFAULT_TIMEOUT, default_jobs, lint_items, read_keyed
from attrlint.lint.suppression import Options


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    results: list[FileResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    configs: list[Config] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what could not be checked: the run cannot pass

    @property
    def files(self) -> int:
        """Files checked (those that could not be are in `errors`)."""
        return sum(1 for r in self.results if r.warning is None)

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
            if parent is not None and not any(os.path.exists(os.path.join(directory, name))
                                              for name in CONFIG_NAMES):
                self._by_dir[directory] = parent  # the nearest configuration is the parent's
                return parent
            pyproject = find_config_file(Path(directory))
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
            linter = linters[config_index[key]] = Linter(config, options, project_phase=project_rules)
            linter.defer_unused_noqa = True  # judged below, once the project phase has run
        return config_index[key]

    def on_warning(message: str) -> None:
        result.warnings.append(message)
        warn(f"attrlint: warning: {message}")

    def on_error(message: str) -> None:
        result.errors.append(message)
        warn(f"attrlint: error: {message}")

    excluders: dict[int, Excluder] = {}
    for given in paths:
        root_config = resolver.for_path(given)
        excluder = excluders.get(id(root_config))
        if excluder is None:
            excluder = excluders[id(root_config)] = Excluder(root_config)
        for path in iter_files([given], excluder, force_exclude=force_exclude, on_warning=on_warning,
                               on_error=on_error):
            items.append((path, linter_for(resolver.for_file(path))))
        if data_files_wanted(options, root_config):
            for path in iter_data_files([given], excluder, force_exclude=force_exclude, on_warning=on_warning):
                config = resolver.for_file(path)
                if data_files_wanted(options, config):
                    items.append((path, linter_for(config)))

    jobs = jobs or default_jobs()
    result.results, digests, caches, from_cache = _lint_all(items, linters, jobs=jobs, timeout=timeout,
                                                            use_cache=use_cache, cache_dir=cache_dir,
                                                            progress=progress)
    for file_result in result.results:
        if file_result.warning:
            on_error(file_result.warning)
        result.findings.extend(file_result.findings)
    result.configs = resolver.all()
    if project_rules:
        _project_phase(result, items, linters, digests, caches, from_cache,
                       today=today if isinstance(today, dt.date) else today_utc(), jobs=jobs, timeout=timeout)
    _unused_noqa(result, items, linters, whole_run=project_rules)
    result.findings.sort(key=Finding.sort_key)
    return result


def data_files_wanted(options: Options, config: Config) -> bool:
    """Whether ATR101 reads the git-tracked data files (`--check-data-files`, else the configuration)."""
    return config.check_data_files if options.check_data_files is None else options.check_data_files


def _apply_noqa(found: list[Finding], uses: dict[str, object]) -> list[Finding]:
    """Project-phase findings of a run that tracks noqa use (ATR900): the phase ran blind to
    noqa, so apply it here by line and remember which comments suppressed something."""
    from attrlint.lint.suppression import noqa_covers

    kept = []
    for finding in found:
        use = uses.get(finding.path) if finding.cell is None else None
        noqa = use.lines.get(finding.line, "") if use is not None else ""  # type: ignore[attr-defined]
        if noqa and noqa_covers(noqa, finding.code):
            use.used.add((finding.line, finding.code))  # type: ignore[union-attr]
        else:
            kept.append(finding)
    return kept


def _unused_noqa(result: RunResult, items: list[tuple[str, int]], linters: dict[int, Linter], *,
                 whole_run: bool) -> None:
    """ATR900 findings, now that every phase has said which noqa comments it needed."""
    for position, file_result in enumerate(result.results):
        if file_result is None or file_result.noqa is None:
            continue
        linter = linters[items[position][1]]
        result.findings.extend(linter.unused_noqa(file_result.path, file_result.noqa, whole_run=whole_run))


def _project_phase(result: RunResult, items: list[tuple[str, int]], linters: dict[int, Linter], digests: list,
                   caches: dict, from_cache: list, *, today: dt.date, jobs: int, timeout: float) -> None:
    """Each configuration's project-wide findings, from the cache when its tree is unchanged."""
    from attrlint.lint.project.context import ProjectContext
    from attrlint.lint.project.phase import run_project_phase

    for index, linter in linters.items():
        positions = [p for p, (_, i) in enumerate(items) if i == index]
        group = [result.results[p] for p in positions]
        cache = caches.get(index)
        uses = ({result.results[p].path: result.results[p].noqa for p in positions if result.results[p].noqa}
                if linter.track_noqa else None)
        key = None
        if cache is not None and all(digests[p] is not None for p in positions):
            from attrlint.lint.cache import stable_repr

            key = cache.tree_key([(items[p][0], digests[p]) for p in positions], today,
                                 stable_repr((linter.config, sorted(linter.codes))))
            cached = cache.project_lookup(key)
            if cached is not None:  # same files, same contents, same configuration: same findings
                _add_project_findings(result, _apply_noqa(cached, uses) if uses is not None else cached)
                continue
        if cache is not None:  # summaries of cached files are decoded only now
            _cached_summaries(result, items, positions, from_cache, cache, linters, jobs=jobs, timeout=timeout)
        ctx = ProjectContext(
            config=linter.config, catalogue=linter.catalogue, codes=linter.codes, strict=linter.strict,
            results=group, today=today,
            suppressor=linter.suppressor.blind_to_noqa() if uses is not None else linter.suppressor,
            analyse_fully=lambda paths, linter=linter: analyse_fully(linter, paths, jobs=jobs, timeout=timeout),
        )
        found = run_project_phase(ctx)
        _add_project_findings(result, _apply_noqa(found, uses) if uses is not None else found)
        if key is not None:
            cache.project_store(key, found)


def _cached_summaries(result: RunResult, items: list[tuple[str, int]], positions: list[int], from_cache: list,
                      cache, linters: dict[int, Linter], *, jobs: int, timeout: float) -> None:
    """The module summaries of the files whose results came from the cache; a file whose
    summary the cache has lost is analysed again for it."""
    from attrlint.lint.cache import FactsLost

    lost = []
    for p in positions:
        if from_cache[p]:
            try:
                result.results[p].summary = cache.summary_for(items[p][0])
            except FactsLost:
                lost.append(p)
    for sub, keyed in lint_items([items[p] for p in lost], linters, jobs, timeout=timeout):
        result.results[lost[sub]].summary = keyed[0].summary


def _add_project_findings(result: RunResult, found: list[Finding]) -> None:
    """Add the project phase's findings; one at the position and code of a per-file finding
    replaces it (the project phase knows more, e.g. the callers of a helper)."""
    at = {(f.path, f.line, f.column, f.code) for f in found}
    if at:
        result.findings = [f for f in result.findings if (f.path, f.line, f.column, f.code) not in at]
    result.findings.extend(found)


def analyse_fully(linter: Linter, paths: list[str], *, jobs: int, timeout: float) -> dict[str, FileResult]:
    """Analyse `paths` past the prefilter (for the project phase, which needs a skipped file's
    summary when it may call a wrapper), in the process pool when there are many."""
    full = Linter(linter.config, linter.options, linter.catalogue, use_prefilter=False, project_phase=True)
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
                    data, st = read_keyed(path)
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
    elif is_data_file(filename) and not filename.endswith(SOURCE_SUFFIXES):
        # a data file an editor or hook hands over: checked for keys when data files are
        file_result = linter.lint_data(data, filename) if linter.check_data_files else FileResult(path=filename)
    else:
        file_result = linter.lint_bytes(data, filename)
    return RunResult(findings=list(file_result.findings), results=[file_result], configs=[config])

