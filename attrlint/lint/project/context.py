"""`ProjectContext`: everything the project-wide phase needs, passed in explicitly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from attrlint.core.catalogue import Catalogue
from attrlint.core.config import Config
from attrlint.lint.diagnostics import FileResult
from attrlint.lint.suppression import Suppressor


def _no_analysis(paths: list[str]) -> dict[str, FileResult]:
    return {}


@dataclass
class ProjectContext:
    """One configuration's files, after per-file analysis.

    `analyse_fully` analyses files the prefilter skipped, past the prefilter (wrapper
    inference needs them when they call a wrapper); the runner supplies one that uses its
    process pool. `rescanned` remembers which files it was asked for, so none is read twice.
    """

    config: Config
    catalogue: Catalogue
    codes: frozenset[str]
    strict: bool
    results: list[FileResult]
    today: dt.date
    suppressor: Suppressor
    analyse_fully: Callable[[list[str]], dict[str, FileResult]] = _no_analysis
    rescanned: set[str] = field(default_factory=set)
