"""The provider catalogue (providers.toml), loaded once and validated."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from attrlint.core import toml as _toml
from attrlint.core.data import data_path


class CatalogueError(Exception):
    pass


@dataclass(frozen=True)
class Vendor:
    name: str
    display_name: str
    key_env_names: tuple[str, ...]
    generic_key_envs: tuple[str, ...]
    key_formats: tuple[tuple[str, re.Pattern[str]], ...]
    base_url_envs: tuple[str, ...] = ()
    ambiguous_key_envs: tuple[str, ...] = ()  # generic variables the vendor's other APIs use too
    llm_words: tuple[str, ...] = ()  # words that show a file uses the vendor's LLMs


@dataclass(frozen=True)
class ClientSpec:
    name: str  # qualified constructor name
    sdk: str
    default_key_env: str  # "" when the client authenticates another way
    key_params: tuple[str, ...]
    vendor: str = ""  # who bills, when not the SDK's vendor (a framework's provider classes)
    key_position: int | None = None  # the positional argument that carries the key, if any


@dataclass(frozen=True)
class MetadataSpec:
    param: str
    position: int | None = None
    path: tuple[str, ...] = ()
    max_keys: int | None = None
    max_key_length: int | None = None
    max_value_length: int | None = None
    string_values: bool = False
    allowed_keys: tuple[str, ...] | None = None

    @property
    def carries_fields(self) -> bool:
        """Attribution fields can travel in this argument (Anthropic's takes only `user_id`)."""
        return self.allowed_keys is None


def carries_fields(spec: MetadataSpec | None) -> bool:
    """A call with this metadata argument can carry attribution fields in its arguments; when
    it cannot, only an enclosing `with attribution(...)` or `instrument(...)` supplies them."""
    return spec is not None and spec.carries_fields


@dataclass(frozen=True)
class Sdk:
    name: str
    vendor: str
    modules: tuple[str, ...]
    module_receiver: bool
    clients: tuple[ClientSpec, ...]
    methods: dict[str, str] = field(hash=False)
    functions: dict[str, str] = field(hash=False)
    compatible_methods: frozenset[str] = frozenset()
    metadata: MetadataSpec | None = None
    factories: tuple[tuple[str, str], ...] = ()  # (attr, service)
    no_metadata: frozenset[str] = frozenset()  # methods/functions that take no metadata parameter
    modifiers: frozenset[str] = frozenset()  # methods that return the same client, reconfigured
    shapes: tuple[tuple[str, frozenset[str]], ...] = ()  # (method path, keywords) that identify a call

    def for_method(self, method: str) -> Sdk:
        """This SDK as seen by one method: without a metadata parameter where it takes none."""
        if method in self.no_metadata and self.metadata is not None:
            return _without_metadata(self)
        return self


@functools.cache
def _without_metadata(sdk: Sdk) -> Sdk:
    return replace(sdk, metadata=None)


@dataclass(frozen=True)
class Catalogue:
    vendors: dict[str, Vendor] = field(hash=False)
    sdks: dict[str, Sdk] = field(hash=False)
    clients: dict[str, ClientSpec] = field(hash=False)  # qualified ctor -> spec
    module_receivers: dict[str, str] = field(hash=False)  # module -> sdk
    functions: dict[str, tuple[str, str]] = field(hash=False)  # "litellm.completion" -> (sdk, op)
    compatible: dict[str, str] = field(hash=False)  # method path -> sdk
    reexports: dict[str, str] = field(hash=False)  # module -> module
    factories: dict[tuple[str, str], str] = field(hash=False)  # (attr, service) -> sdk
    factory_functions: dict[str, tuple[str, str]] = field(hash=False)  # qname -> (sdk, "client" | "argument")
    generic_envs: dict[str, str] = field(hash=False)  # env name -> vendor
    env_tokens: dict[str, str] = field(hash=False)  # name token -> vendor
    base_url_envs: dict[str, str] = field(hash=False, default_factory=dict)  # env name -> vendor
    key_regex: re.Pattern[str] = re.compile("(?!)")
    key_format_names: tuple[str, ...] = ()
    method_tails: frozenset[str] = frozenset()
    # method tail -> (method path, keywords, sdk): calls recognised by their shape alone
    shapes: dict[str, tuple[tuple[str, frozenset[str], str], ...]] = field(hash=False, default_factory=dict)

    def normalise(self, qname: str) -> str:
        """Map re-exporting modules onto the SDK they re-export (`langfuse.openai.X` -> `openai.X`),
        and a deep import path onto the name the catalogue knows
        (`google.generativeai.generative_models.GenerativeModel` -> `google.generativeai.GenerativeModel`)."""
        cache: dict[str, str] = self.__dict__.setdefault("_normalised", {})
        found = cache.get(qname)
        if found is None:
            found = cache[qname] = self._normalise(qname)
        return found

    def _normalise(self, qname: str) -> str:
        for source, target in self.reexports.items():
            if qname == source or qname.startswith(source + "."):
                return target + qname[len(source):]
        known = self.__dict__.get("_known_names")
        if known is None:
            known = set(self.clients) | set(self.factory_functions)
            for name in self.functions:
                known.add(name)
                known.add(name.rpartition(".")[0])  # `dashscope.Generation` of `dashscope.Generation.call`
            object.__setattr__(self, "_known_names", known)
            object.__setattr__(self, "_sdk_modules", sorted(
                {m for sdk in self.sdks.values() for m in sdk.modules}, key=len, reverse=True))
        if qname in known:
            return qname
        for module in self.__dict__["_sdk_modules"]:
            if qname.startswith(module + "."):
                parts = qname[len(module) + 1:].split(".")
                for i in range(1, len(parts)):  # skip submodules: `aigc.generation.Generation.call`
                    candidate = ".".join((module, *parts[i:]))
                    head = ".".join((module, parts[i]))
                    if head in known and head[0].isalpha():
                        return candidate
                break
        return qname

    def key_format(self, text: str) -> tuple[str, re.Match[str]] | None:
        prefixes = key_prefixes(self.key_regex)
        if prefixes is not None and not any(p in text for p in prefixes):
            return None  # substring tests are far cheaper than the regex on long strings
        match = self.key_regex.search(text)
        if not match:
            return None
        return self.key_format_names[int(match.lastgroup[1:])], match  # type: ignore[index]

    def key_matches(self, text: str) -> Iterator[re.Match[str]]:
        """Every key-format match in `text`, in order (see `format_of`)."""
        prefixes = key_prefixes(self.key_regex)
        if prefixes is not None and not any(p in text for p in prefixes):
            return iter(())
        return self.key_regex.finditer(text)

    def format_of(self, match: re.Match[str]) -> str:
        """The name of the key format a `key_matches` / `key_format` match is of."""
        return self.key_format_names[int(match.lastgroup[1:])]  # type: ignore[index]

    def vendor_of_env(self, name: str) -> str | None:
        """The vendor whose key a variable name looks like, from its name tokens."""
        if name in self.generic_envs:
            return self.generic_envs[name]
        upper = name.upper()
        tokens = upper.split("_")
        # longest multi-token names first (AZURE_OPENAI before OPENAI)
        for token in sorted(self.env_tokens, key=len, reverse=True):
            parts = token.split("_")
            for i in range(len(tokens) - len(parts) + 1):
                if tokens[i:i + len(parts)] == parts:
                    return self.env_tokens[token]
        return None


_KEY_SHAPE = re.compile(r"(?:^|_)(?:API_KEY|KEY|TOKEN|SECRET_KEY|ACCESS_KEY|AK|SK)(?:_|$)")


@functools.lru_cache(maxsize=8)
def key_prefixes(key_regex: re.Pattern[str]) -> tuple[str, ...] | None:
    """The literal texts every key-format match starts with, or None when some format has none."""
    found: list[str] = []
    for alternative in _split_alternatives(key_regex.pattern):
        prefixes = literal_prefixes(alternative)
        if prefixes is None:
            return None
        found.extend(prefixes)
    # "sk-" makes "sk-proj" redundant
    return tuple(sorted(p for p in set(found) if not any(q != p and p.startswith(q) for q in found)))


def literal_prefixes(pattern: str) -> list[str] | None:
    """The literal texts every match of `pattern` starts with (None when there is none)."""
    from re import _parser  # type: ignore[attr-defined]

    def prefixes(items: list) -> list[str] | None:
        text = ""
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                text += chr(arg)
                continue
            if name == "SUBPATTERN":
                inner = prefixes(list(arg[-1]))
            elif name == "BRANCH":
                inner = []
                for branch in arg[1]:
                    found = prefixes(list(branch))
                    if found is None:
                        return [text] if text else None
                    inner.extend(found)
            else:
                inner = None
            if inner is None:
                return [text] if text else None
            return [text + p for p in inner]
        return [text] if text else None

    try:
        return prefixes(list(_parser.parse(pattern)))
    except Exception:  # noqa: BLE001 - an unusual pattern: no shortcut, use the full regex
        return None


def _split_alternatives(pattern: str) -> list[str]:
    """Top-level `|` alternatives of a regex."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            j = pattern.index("]", i + 2 if pattern[i + 1:i + 2] in ("]", "^") else i + 1)
            i = j + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def client_label(name: str) -> str:
    """How a constructor is shown: `OpenAI`, or `openai.Client` when the short name says
    nothing of the SDK."""
    module, _, short = name.rpartition(".")
    if short in ("Client", "AsyncClient", "ClientV2", "AsyncClientV2", "LLM"):
        return f"{module.rpartition('.')[2]}.{short}"
    return short


def is_key_shaped(name: str) -> bool:
    """`*_API_KEY`, `*_KEY`, `*_KEY_*`, `*_TOKEN` (and `*_TOKEN_*`), and the access/secret key
    pairs some providers use (`*_AK`, `*_SK`, `QIANFAN_AK_SUPPORT`)."""
    return bool(_KEY_SHAPE.search(name.upper()))


def _expect(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise CatalogueError(f"providers.toml: {where}: {message}")


def _operations(table: dict[str, Any], where: str, no_metadata: set[str]) -> dict[str, str]:
    """`path = "op"` or `path = { operation = "op", metadata = false }`."""
    result = {}
    for path, value in table.items():
        if isinstance(value, dict):
            _expect("operation" in value, f"{where}.{path}", "needs `operation`")
            _expect(set(value) <= {"operation", "metadata"}, f"{where}.{path}", "expected operation and metadata")
            if value.get("metadata") is False:
                no_metadata.add(path)
            value = value["operation"]
        _expect(isinstance(value, str), f"{where}.{path}", "expected an operation name")
        result[path] = value
    return result


def parse_catalogue(raw: dict[str, Any]) -> Catalogue:
    vendors: dict[str, Vendor] = {}
    patterns: list[str] = []
    names: list[str] = []
    for name, spec in raw.get("vendors", {}).items():
        formats = []
        for fmt in spec.get("key-formats", []):
            try:
                compiled = re.compile(fmt["regex"])
            except re.error as exc:
                raise CatalogueError(f"providers.toml: vendors.{name}: bad regex: {exc}") from None
            formats.append((fmt["name"], compiled))
            patterns.append(f"(?P<k{len(names)}>{fmt['regex']})")
            names.append(fmt["name"])
        vendors[name] = Vendor(
            name=name,
            display_name=spec.get("display-name", name),
            key_env_names=tuple(spec.get("key-env-names", [])),
            generic_key_envs=tuple(spec.get("generic-key-envs", [])),
            key_formats=tuple(formats),
            base_url_envs=tuple(spec.get("base-url-envs", [])),
            ambiguous_key_envs=tuple(spec.get("ambiguous-key-envs", [])),
            llm_words=tuple(spec.get("llm-words", [])),
        )
    sdks: dict[str, Sdk] = {}
    clients: dict[str, ClientSpec] = {}
    module_receivers: dict[str, str] = {}
    functions: dict[str, tuple[str, str]] = {}
    compatible: dict[str, str] = {}
    reexports: dict[str, str] = {}
    factories: dict[tuple[str, str], str] = {}
    factory_functions: dict[str, tuple[str, str]] = {}
    tails: set[str] = set()
    for name, spec in raw.get("sdks", {}).items():
        where = f"sdks.{name}"
        _expect(spec.get("vendor") in vendors, where, f"vendor {spec.get('vendor')!r} is not in [vendors]")
        modules = tuple(spec.get("modules", []))
        _expect(bool(modules), where, "needs `modules`")
        sdk_clients = []
        for c in spec.get("clients", []):
            c = {"name": c} if isinstance(c, str) else c
            _expect("name" in c, where, "each client needs a `name`")
            _expect(c.get("vendor", spec.get("vendor")) in vendors, where,
                    f"client {c['name']}: vendor {c.get('vendor')!r} is not in [vendors]")
            cs = ClientSpec(
                name=c["name"], sdk=name,
                default_key_env=c.get("default-key-env", ""),
                key_params=tuple(c.get("key-params", ["api_key"])),
                vendor=c.get("vendor", ""),
                key_position=c.get("key-position"),
            )
            sdk_clients.append(cs)
            clients[cs.name] = cs
        md = spec.get("metadata")
        metadata = None
        if md is not None:
            _expect("param" in md, where, "metadata needs `param`")
            metadata = MetadataSpec(
                param=md["param"], position=md.get("position"), path=tuple(md.get("path", ())),
                max_keys=md.get("max-keys"), max_key_length=md.get("max-key-length"),
                max_value_length=md.get("max-value-length"), string_values=md.get("string-values", False),
                allowed_keys=tuple(md["allowed-keys"]) if "allowed-keys" in md else None,
            )
        no_metadata: set[str] = set()
        methods = _operations(spec.get("methods", {}), f"{where}.methods", no_metadata)
        funcs = _operations(spec.get("functions", {}), f"{where}.functions", no_metadata)
        sdk_factories = []
        for f in spec.get("factories", []):
            if "function" in f:
                returns = f.get("returns", "client")
                _expect(returns in ("client", "argument"), where, f"factory returns {returns!r}: expected client or argument")
                factory_functions[f["function"]] = (name, returns)
            else:
                _expect("attr" in f and "service" in f, where, "a factory needs `function`, or `attr` and `service`")
                sdk_factories.append((f["attr"], f["service"]))
        shapes = []
        for shape in spec.get("shapes", []):
            _expect(isinstance(shape, dict) and shape.get("method") in methods, where,
                    "a shape needs `method` (one of its methods) and `keywords`")
            keywords = shape.get("keywords", [])
            _expect(isinstance(keywords, list) and len(keywords) >= 2, where,
                    f"shape {shape.get('method')}: give at least two keywords that identify the call")
            shapes.append((shape["method"], frozenset(keywords)))
        sdk = Sdk(
            name=name, vendor=spec["vendor"], modules=modules,
            module_receiver=bool(spec.get("module-receiver", False)),
            clients=tuple(sdk_clients), methods=methods, functions=funcs,
            compatible_methods=frozenset(spec.get("compatible-methods", [])),
            metadata=metadata,
            factories=tuple(sdk_factories), no_metadata=frozenset(no_metadata),
            modifiers=frozenset(spec.get("modifiers", [])), shapes=tuple(shapes),
        )
        sdks[name] = sdk
        if sdk.module_receiver:
            for m in modules:
                module_receivers[m] = name
        for fname, op in funcs.items():
            for m in modules:
                functions[f"{m}.{fname}"] = (name, op)
            tails.add(fname.rsplit(".", 1)[-1])
        for path in sdk.compatible_methods:
            _expect(path in methods, where, f"compatible method {path!r} is not in methods")
            compatible[path] = name
        for path in methods:
            tails.add(path.rsplit(".", 1)[-1])
        for src, dst in spec.get("reexports", {}).items():
            reexports[src] = dst
        for f in sdk.factories:
            factories[f] = name
    shapes_by_tail: dict[str, list[tuple[str, frozenset[str], str]]] = {}
    for sdk in sdks.values():
        for method, keywords in sdk.shapes:
            shapes_by_tail.setdefault(method.rsplit(".", 1)[-1], []).append((method, keywords, sdk.name))
    # the most specific re-export wins (`langfuse.openai.openai` before `langfuse.openai`)
    reexports = dict(sorted(reexports.items(), key=lambda item: -len(item[0])))
    generic_envs = {env: v.name for v in vendors.values() for env in v.generic_key_envs}
    env_tokens = {tok: v.name for v in vendors.values() for tok in v.key_env_names}
    base_url_envs = {env: v.name for v in vendors.values() for env in v.base_url_envs}
    return Catalogue(
        vendors=vendors, sdks=sdks, clients=clients, module_receivers=module_receivers,
        functions=functions, compatible=compatible, reexports=reexports, factories=factories,
        factory_functions=factory_functions,
        generic_envs=generic_envs, env_tokens=env_tokens, base_url_envs=base_url_envs,
        key_regex=re.compile("|".join(patterns)) if patterns else re.compile("(?!)"),
        key_format_names=tuple(names), method_tails=frozenset(tails),
        shapes={tail: tuple(found) for tail, found in shapes_by_tail.items()},
    )


@functools.lru_cache(maxsize=1)
def load_catalogue(path: Path | None = None) -> Catalogue:
    path = path or data_path("providers.toml")
    return parse_catalogue(_toml.loads(path.read_text(encoding="utf-8")))


def shadowing_roots(root: Path, catalogue: Catalogue) -> frozenset[str]:
    """Top-level project packages or modules (in `root` or `root/src`) named like an SDK
    module: `import agents` there means the project's own `agents/`, not openai-agents."""
    sdk_roots = {m.split(".", 1)[0] for sdk in catalogue.sdks.values() for m in sdk.modules}
    found = set()
    for base in (root, root / "src"):
        for name in sdk_roots:
            if (base / name / "__init__.py").is_file() or (base / f"{name}.py").is_file():
                found.add(name)
    return frozenset(found)
