"""Reading YAML files so that every problem can name its file, line and field.

The only module that imports PyYAML. `load()` returns the plain data together with a map from each value's
path (`("lights", 0, "profile")`) to its line; `validate()` runs a pydantic model over the data and turns
every error into a `Problem` that `room-controller check` prints as `file:line: dotted.path: message`.
"""

from __future__ import annotations

import difflib
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from room_controller import units

Path_ = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(top)'}: {self.message}"


class ConfigError(Exception):
    """One or more problems in configuration files; the service must not start with them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Document:
    """A parsed YAML file: its data and where each value stands."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """The line of the deepest part of `path` that exists in the file (1 when nothing does)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1

    def problem(self, path: Path_, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), dotted(path), message)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Model(BaseModel):
    """Base of every file model and request body: immutable, an unknown key is an error with a suggestion,
    and every number is finite and within units.MAX_NUMBER (so nothing downstream meets an OverflowError or
    sends `Infinity`, which JSON has not)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(cls.model_fields)
            known |= {f.alias for f in cls.model_fields.values() if f.alias}
            for key in data:
                if key not in known:
                    close = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
                    hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(sorted(known))}"
                    raise PydanticCustomError("unknown_key", "unknown key '{key}'{hint}", {"key": key, "hint": hint})
            for key, value in data.items():
                _bounded(key, value)
        return data


def _bounded(key: Any, value: Any) -> None:
    """Every number in `value` (nested lists and mappings too) finite and within units.MAX_NUMBER."""
    todo: list[tuple[Any, Path_]] = [(value, (key,))]
    while todo:
        item, where = todo.pop()
        if isinstance(item, dict):
            todo += [(v, where + (k,)) for k, v in item.items()]
        elif isinstance(item, (list, tuple)):
            todo += [(v, where + (i,)) for i, v in enumerate(item)]
        else:
            try:
                units.bounded_number(item)
            except ValueError as exc:
                raise PydanticCustomError("number_bound", "{place}: {why}",
                                          {"place": dotted(where), "where": where, "why": str(exc)}) from None


# A billion-laughs file (aliases of aliases) costs a few hundred bytes and expands to gigabytes: a room's
# files use an alias or two (device_profiles/tasmota.yaml), so a small budget refuses the attack quickly.
MAX_ALIASES = 50
MAX_NODES = 100_000         # values in a file, aliases counted each time they are used
MAX_FILE_BYTES = 1 << 20    # the largest shipped file is a few KiB


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. In YAML 1.1 `on:`, `off:`, `yes`, `no` are booleans, and a light
    setting `{on: false}` would lose its key. At most MAX_ALIASES aliases."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.composer.ComposerError(None, None, f"more than {MAX_ALIASES} aliases (*name); write "
                                                  "the values out", self.peek_event().start_mark)
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


class _TooBig(Exception):
    """The file expands (through its aliases) to more than MAX_NODES values."""


def load(path: str | Path, text: str | None = None) -> Document:
    """Parse a YAML file into data plus line numbers; syntax errors, duplicate keys, files too large and
    numbers out of bounds are problems (every one in the file)."""
    name = str(path)
    if text is None:
        text = _read(Path(path), name)
    if len(text) > MAX_FILE_BYTES:
        raise ConfigError([Problem(name, 1, "", f"the file is larger than {MAX_FILE_BYTES // 1024} KiB")])
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError([Problem(name, line, "", f"not valid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(name, 1, "", f"not valid YAML: {exc}")]) from None
    except RecursionError:   # the composer recurses once per level of nesting
        raise ConfigError([Problem(name, 1, "", "not valid YAML: nested too deeply")]) from None
    doc = Document(name, None)
    problems: list[Problem] = []
    if node is not None:
        try:
            _index(node, (), doc.lines, problems, name, [MAX_NODES])
        except _TooBig:
            raise ConfigError([Problem(name, 1, "", f"the file expands to more than {MAX_NODES} values "
                                                    "(aliases of aliases?)")]) from None
        try:
            doc.data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:  # composed but could not be constructed (e.g. a bad tag)
            problems.append(Problem(name, 1, "", f"not valid YAML: {exc}"))
        problems += _numbers(doc)
    if problems:
        raise ConfigError(problems)
    return doc


def _read(path: Path, name: str) -> str:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(name, 1, "", f"cannot read the file: {exc}")]) from None


def _numbers(doc: Document) -> list[Problem]:
    """Every number out of bounds (units.bounded_number), each where it stands."""
    problems: list[Problem] = []
    todo: list[tuple[Any, tuple]] = [(doc.data, ())]
    while todo:
        item, path = todo.pop()
        if isinstance(item, dict):
            todo += [(v, path + (k,)) for k, v in item.items()]
        elif isinstance(item, list):
            todo += [(v, path + (i,)) for i, v in enumerate(item)]
        else:
            try:
                units.bounded_number(item)
            except ValueError as exc:
                problems.append(doc.problem(path, str(exc)))
    return sorted(problems, key=lambda p: p.line)


def _index(node: yaml.Node, path: Path_, lines: dict[Path_, int], problems: list[Problem], name: str,
           budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                problems.append(Problem(name, key_node.start_mark.line + 1, dotted(path + (key,)),
                                        "this key appears twice; keep one"))
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _index(value_node, path + (key,), lines, problems, name, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, path + (i,), lines, problems, name, budget)


def dump(data: Any) -> str:
    """YAML text for files the controller writes back (kept in block style, keys in the given order)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def replace_key(text: str, key: str, value: Any) -> str:
    """`text` with the top-level `key` and its value rewritten, the rest byte for byte (comments kept);
    added at the end when absent. Comments inside the old value go with it."""
    root = yaml.compose(text, Loader=_Loader)
    block = dump({key: value})
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise ValueError("the file is not a block mapping of keys (key: value on lines of their own)")
    for key_node, value_node in root.value:
        if key_node.value == key:
            start = key_node.start_mark.index - key_node.start_mark.column
            end = max(key_node.end_mark.index, _end(value_node))
            if not text[end - 1:end] == "\n":       # a block scalar ends at the next line's start already
                end = text.find("\n", end) + 1 or len(text)
            return text[:start] + textwrap.indent(block, " " * key_node.start_mark.column) + text[end:]
    return text + ("\n" if text and not text.endswith("\n") else "") + block


def _end(node: yaml.Node) -> int:
    """Where a value's own text ends: a block collection's end mark is only where the next key begins."""
    if not isinstance(node, yaml.CollectionNode) or node.flow_style:
        return node.end_mark.index
    children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
    return max(_end(child) for child in children)


def validate(model: type[M], doc: Document, data: Any = None, context: dict | None = None) -> M:
    """`model` over the document's data (or `data` derived from it); errors become file:line problems."""
    try:
        return model.model_validate(doc.data if data is None else data, context=context)
    except ValidationError as exc:
        raise ConfigError(problems_from(exc, doc)) from None


def problems_from(exc: ValidationError, doc: Document) -> list[Problem]:
    problems = []
    for err in exc.errors():
        path = _data_path(doc.data, err["loc"])
        message = _message(err)
        if err["type"] == "unknown_key":   # raised for the model: name its key
            path = path + (err["ctx"]["key"],)
        elif err["type"] == "number_bound":
            path, message = _data_path(doc.data, err["loc"] + tuple(err["ctx"]["where"])), err["ctx"]["why"]
        problems.append(doc.problem(path, message))
    return _dedupe(problems)


def _data_path(data: Any, loc: tuple) -> Path_:
    """Pydantic's error location minus its union-branch labels, matched against the real data."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif i == len(loc) - 1 and isinstance(node, dict):
            path.append(part)  # a missing required key: name it, it has no line of its own
        # anything else is a label pydantic adds for a union branch or a validator: not in the file
    return tuple(path)


def _message(err: Mapping[str, Any]) -> str:
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if err["type"] == "missing":
        return "required, but missing"
    return msg


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """A value that fails every branch of a union yields one problem per branch: keep the first per place."""
    seen: dict[tuple[int, str], Problem] = {}
    for p in problems:
        seen.setdefault((p.line, p.path), p)
    return list(seen.values())
