"""The prefilter: from a file's text alone, before any parse, whether it can produce a
finding or a project-wide fact. Plain substring tests (C speed) come first; regexes run
only on the few files those admit."""

from __future__ import annotations

import re

from attrlint.core.catalogue import Catalogue, is_key_shaped, key_prefixes
from attrlint.core.config import Config


def _call_of(names: set[str]) -> re.Pattern[str]:
    """`name(` for any of `names`, as a regex that starts with the literal `(` (so the regex
    engine skips to each parenthesis) and checks the name behind it, grouped by length
    because a look-behind must have a fixed width. Whitespace before the parenthesis
    (`create (`, pycodestyle E211) is not admitted."""
    by_length: dict[int, list[str]] = {}
    for name in sorted(names):
        by_length.setdefault(len(name), []).append(re.escape(name))
    behind = "|".join(f"(?<=(?<!\\w)(?:{'|'.join(group)})\\()" for group in by_length.values())
    return re.compile(f"\\((?:{behind})")


# Helpers that call the callable they are given (the analyser follows them: see
# analysis/analyzer.py `_run_now` and `partial`/`sync_to_async`/`cast`).
RUNNER_CALLS = frozenset({"partial", "sync_to_async", "to_thread", "run_sync", "run_in_executor",
                          "run_in_threadpool", "cast"})


class Prefilter:
    """Decides from the text alone, before any parse, whether a file can produce a finding
    or a project-wide fact. Plain substring tests (C speed) come first; regexes run only
    on the few files those admit.

    A file passes when it has any of:
    - an SDK module name (or a re-exporting module, or a duck-typed chain's `completions`
      or `responses`) and a call of a billable method, a client constructor or a factory
      (`create(`, `completion(`, `OpenAI(`, ...), or of a helper that calls a method it is
      handed (`partial(`, `sync_to_async(`, `to_thread(`, `run_in_executor(`, `cast(`);
    - `attrlint` (the runtime's attribution blocks);
    - an environment read (`environ`/`getenv`) or a settings class (`Settings`) with a
      key-shaped name that names a vendor (or is built by an f-string), or a key declared in
      the configuration;
    - a literal in one of the catalogue's key formats;
    - a call of a configured wrapper.
    """

    def __init__(self, catalogue: Catalogue, config: Config) -> None:
        self.catalogue = catalogue
        modules = {m for sdk in catalogue.sdks.values() for m in sdk.modules}
        words = {m.split(".")[0] for m in modules} | {m.split(".")[-1] for m in modules}
        words |= {m.split(".")[0] for m in catalogue.reexports}
        # duck-typed chains (`x.chat.completions.create(...)`) count without any import
        words |= {path.split(".")[-2] for path in catalogue.compatible if "." in path}
        self.sdk_words = tuple(sorted(words, key=len, reverse=True))
        tails = set(catalogue.method_tails)
        tails |= {name.split(".")[-1] for name in catalogue.clients}
        tails |= {name.split(".")[-1] for name in catalogue.functions}
        tails |= {attr for sdk in catalogue.sdks.values() for attr, _ in sdk.factories}
        tails |= {name.split(".")[-1] for name in getattr(catalogue, "factory_functions", {})}
        # helpers handed a method to call now: `sync_to_async(client.audio.translations.create)(...)`
        tails |= RUNNER_CALLS
        self.calls = _call_of(tails)
        wrappers = {w.target.split(":")[-1].split(".")[-1] for w in config.wrappers.values()}
        self.wrapper_calls = _call_of(wrappers) if wrappers else None
        self.declared_envs = tuple(sorted(config.keys))
        self.generic_envs = tuple(sorted(catalogue.generic_envs))
        self.key_prefixes = key_prefixes(catalogue.key_regex)

    def __call__(self, text: str) -> bool:
        if any(word in text for word in self.sdk_words) and self.calls.search(text):
            return True
        if "attrlint" in text:
            return True
        if ("environ" in text or "getenv" in text or "putenv" in text or "Settings" in text) and self._env_key(text):
            return True
        if "env_prefix" in text and "Settings" in text:
            return True  # a settings class whose prefix may make its fields key variables
        if (self.key_prefixes is None or any(p in text for p in self.key_prefixes)) \
                and self.catalogue.key_regex.search(text):
            return True
        return bool(self.wrapper_calls is not None and self.wrapper_calls.search(text))

    def _env_key(self, text: str) -> bool:
        if any(env in text for env in self.declared_envs) or any(env in text for env in self.generic_envs):
            return True
        low = text.lower()
        names: set[str] = set()
        for needle in ("key", "token"):
            at = low.find(needle)
            while at >= 0:
                start, end = at, at + len(needle)
                while start and (low[start - 1] == "_" or low[start - 1].isalnum()):
                    start -= 1
                while end < len(low) and (low[end] == "_" or low[end].isalnum()):
                    end += 1
                if (start and low[start - 1] in "}\"'" and low[start] == "_" or low[start - 1:start] == "}") \
                        and is_key_shaped(text[start:end]):
                    return True  # f"{PROVIDER}_API_KEY", PROVIDER + "_API_KEY": a name built from a constant
                names.add(text[start:end])
                at = low.find(needle, end)
        vendor_of = self.catalogue.vendor_of_env
        return any(is_key_shaped(name) and vendor_of(name) for name in names)
