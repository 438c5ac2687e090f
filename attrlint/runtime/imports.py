"""Run a function when a module is imported: now if it already is, else right after its import.

`install()` hooks SDKs through their own extension points, and some of them take seconds to
import (litellm) or are installed without being used. So attrlint never imports an SDK to hook
it: a module already imported is hooked at once; any other is hooked when the program imports
it, by a finder at the front of `sys.meta_path` that lets the normal finders do the work and
runs the hook after the module's code has run."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

log = logging.getLogger("attrlint.runtime")

_lock = threading.RLock()
_waiting: dict[str, list[Callable[[ModuleType], None]]] = {}


def when_imported(name: str, hook: Callable[[ModuleType], None]) -> bool:
    """Call `hook(module)` once `name` is imported. Returns True when it ran now (the module
    was already imported), False when it waits for the import."""
    with _lock:
        module = sys.modules.get(name)
        if module is None:
            _waiting.setdefault(name, []).append(hook)
            _ensure_finder()
            return False
    _run(name, module, [hook])
    return True


def cancel(name: str, hook: Callable[[ModuleType], None]) -> None:
    """Forget `hook` if it still waits for `name`."""
    with _lock:
        hooks = _waiting.get(name)
        if hooks is not None and hook in hooks:
            hooks.remove(hook)
            if not hooks:
                del _waiting[name]
        if not _waiting and _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)


def waiting() -> tuple[str, ...]:
    """The modules hooks are waiting for."""
    with _lock:
        return tuple(sorted(_waiting))


def _ensure_finder() -> None:
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def _run(name: str, module: ModuleType, hooks: Sequence[Callable[[ModuleType], None]]) -> None:
    for hook in hooks:
        try:
            hook(module)
        except Exception:  # a hook must never break the program's import
            log.warning("attrlint: could not hook %s", name, exc_info=True)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: for a watched module it asks the other finders, then wraps the
    loader so the hooks run after the module is executed."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname not in _waiting:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        spec.loader = _Loader(loader, fullname)
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: Any, name: str) -> None:
        self._inner = inner
        self._name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        # Put the real loader back first, so the module looks as if attrlint never touched it.
        spec = module.__spec__
        if spec is not None:
            spec.loader = self._inner
        module.__loader__ = self._inner
        self._inner.exec_module(module)
        with _lock:
            hooks = _waiting.pop(self._name, [])
            if not _waiting and _FINDER in sys.meta_path:
                sys.meta_path.remove(_FINDER)
        _run(self._name, module, hooks)

    def __getattr__(self, name: str) -> Any:  # get_code, get_source, is_package, ... of the real loader
        return getattr(self._inner, name)


_FINDER = _Finder()
