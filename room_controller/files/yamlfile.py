"""Reading YAML files so that every problem can name its file, line and field.

The only module that imports PyYAML. `load()` returns the plain data together with a map from each value's
path (`("lights", 0, "profile")`) to its line; `validate()` runs a pydantic model over the data and turns
every error into a `Problem` that `room-controller check` prints as `file:line: dotted.path: message`, in the
room's language where the message has a catalogue key (`Problem.said`); `read()` also returns the model of
the parts that loaded, so the checks across files can run on them in the same pass.

One pass finds every mistake: an unknown key is reported together with the other errors of its model (the
rest is validated without it), not instead of them.
"""

from __future__ import annotations

import copy
import dataclasses
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
from room_controller.i18n.said import Said, SaidError

Path_ = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    path: str
    message: str       # English
    said: Said | None = field(default=None, compare=False)   # the message by its catalogue key, when it has one

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(top)'}: {self.message}"

    def in_language(self, tag: str) -> Problem:
        """The same problem, its message in `tag`'s language (file, line and path as they are)."""
        return self if self.said is None else dataclasses.replace(self, message=self.said.in_language(tag))


def said(file: str, line: int, path: str, message: Said) -> Problem:
    return Problem(file, line, path, str(message), message)


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

    def problem(self, path: Path_, message: str | Said) -> Problem:
        return Problem(self.file, self.line_of(path), dotted(path), str(message),
                       message if isinstance(message, Said) else None)


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

    @model_validator(mode="wrap")
    @classmethod
    def _known_keys(cls, data: Any, handler: Any) -> Any:
        """An unknown key is an error naming the nearest known one; the rest of the model is validated
        without it, and its errors travel with the first unknown key's (`more`), so one pass finds them all.
        A required key that an unknown one misspells is not said missing: that is the same mistake."""
        if not isinstance(data, dict):
            return handler(data)
        for key, value in data.items():
            _bounded(key, value)
        known = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
        unknown = {key: _nearest(str(key), known) for key in data if key not in known}
        if not unknown:
            return handler(data)
        more: list[Any] = [{"type": "unknown_key", "loc": (), "ctx": {"key": key, "near": near, "known": sorted(known),
                                                                     "more": []}}
                           for key, near in list(unknown.items())[1:]]
        try:
            handler({k: v for k, v in data.items() if k in known})
        except ValidationError as exc:
            misspelt = {near for near in unknown.values() if near}
            more += [err for err in exc.errors() if not (err["type"] == "missing" and err["loc"][0] in misspelt)]
        key, near = next(iter(unknown.items()))
        hint = f"; did you mean '{near}'?" if near else f"; known keys: {', '.join(sorted(known))}"
        raise PydanticCustomError("unknown_key", "unknown key '{key}'{hint}",
                                  {"key": key, "hint": hint, "near": near, "known": sorted(known), "more": more})


def _nearest(key: str, known: set[str]) -> str | None:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return close[0] if close else None


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
                raise PydanticCustomError("number_bound", "{place}: {why}", {"place": dotted(where), "where": where,
                                          "why": str(exc), "said": getattr(exc, "said", None)}) from None


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
        raise ConfigError([said(name, 1, "", Said.of("check.file_too_large", kib=MAX_FILE_BYTES // 1024))])
    try:
        loader = _Loader(text)   # its reader refuses a control character at once
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError([said(name, line, "", Said.of("check.not_yaml", why=exc.problem or exc))]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([said(name, 1, "", Said.of("check.not_yaml", why=exc))]) from None
    except RecursionError:   # the composer recurses once per level of nesting
        raise ConfigError([said(name, 1, "", Said.of("check.nested_too_deeply"))]) from None
    doc = Document(name, None)
    problems: list[Problem] = []
    if node is not None:
        try:
            _index(node, (), doc.lines, problems, name, [MAX_NODES])
        except _TooBig:
            raise ConfigError([said(name, 1, "", Said.of("check.too_many_values", count=MAX_NODES))]) from None
        try:
            doc.data = loader.construct_document(node)   # from the nodes already composed: parsed once
        except yaml.YAMLError as exc:  # composed but could not be constructed (e.g. a bad tag)
            problems.append(said(name, 1, "", Said.of("check.not_yaml", why=exc)))
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
        raise ConfigError([said(name, 1, "", Said.of("check.cannot_read_file", why=exc))]) from None


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
            except SaidError as exc:
                problems.append(doc.problem(path, exc.said))
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
                problems.append(said(name, key_node.start_mark.line + 1, dotted(path + (key,)),
                                     Said.of("check.key_twice")))
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


MAX_CUTS = 8   # rounds of taking out what failed; each round's cuts are wider (a field, then its owner)


def read(model: type[M], doc: Document, data: Any = None) -> tuple[M | None, list[Problem]]:
    """`model` over the data with every problem, and when there are some, the model of what is left once
    each part with a problem is taken out (a key, or the item or section it leaves incomplete); None when
    even that fails (the file's own identity, such as `room.id`, is wrong)."""
    data = doc.data if data is None else data
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems, errors = problems_from(exc, doc), _flat(exc.errors())
    left = copy.deepcopy(data)
    for _ in range(MAX_CUTS):
        if not _cut(left, [_cut_path(left, err) for err in errors]):
            return None, problems
        try:
            return model.model_validate(left), problems
        except ValidationError as exc:
            errors = _flat(exc.errors())
    return None, problems


def _cut_path(data: Any, err: Mapping[str, Any]) -> Path_:
    """What to take out for an error: the value at fault, or the mapping a required key is missing from."""
    path = _error_path(data, err)
    return path[:-1] if err["type"] == "missing" else path


def _cut(data: Any, paths: list[Path_]) -> bool:
    """Take each path out of `data` (list items from the last, so the others keep their places); False
    when one is the whole data."""
    if any(not path for path in paths):
        return False
    owners: dict[int, tuple[Any, set]] = {}
    for path in paths:
        owner = data
        for part in path[:-1]:
            owner = owner[part]
        owners.setdefault(id(owner), (owner, set()))[1].add(path[-1])
    for owner, keys in owners.values():
        for key in sorted(keys, reverse=True) if isinstance(owner, list) else keys:
            if isinstance(owner, list) and isinstance(key, int) and key < len(owner):
                del owner[key]
            elif isinstance(owner, dict):
                owner.pop(key, None)
    return True


def problems_from(exc: ValidationError, doc: Document) -> list[Problem]:
    problems = []
    for err in _flat(exc.errors()):
        problems.append(doc.problem(_error_path(doc.data, err), _said(err) or _message(err)))
    return _dedupe(problems)


def _flat(errors: list[Any]) -> list[Mapping[str, Any]]:
    """Pydantic's errors with those an unknown key carries (`more`) as errors of their own, at their place."""
    out: list[Mapping[str, Any]] = []
    todo = [(err, ()) for err in reversed(errors)]
    while todo:
        err, prefix = todo.pop()
        err = {**err, "loc": prefix + tuple(err["loc"])}
        out.append(err)
        if err["type"] == "unknown_key":
            todo += [(inner, err["loc"]) for inner in reversed(err["ctx"]["more"])]
    return out


def _error_path(data: Any, err: Mapping[str, Any]) -> Path_:
    """Where in `data` an error is: an unknown key names its key, a number out of bounds its own place."""
    if err["type"] == "number_bound":
        return _data_path(data, tuple(err["loc"]) + tuple(err["ctx"]["where"]))
    path = _data_path(data, err["loc"], missing=err["type"] == "missing")
    return path + (err["ctx"]["key"],) if err["type"] == "unknown_key" else path


# pydantic's error kinds that `check` says in the room's language: their English is pydantic's own
_KINDS = {"missing", "int_type", "int_parsing", "int_from_float", "float_type", "float_parsing", "string_type",
          "bool_type", "bool_parsing", "dict_type", "list_type", "greater_than", "greater_than_equal", "less_than",
          "less_than_equal"}


def _said(err: Mapping[str, Any]) -> Said | None:
    ctx = err.get("ctx") or {}
    if err["type"] == "unknown_key":
        near = ctx["near"]
        return Said.of("check.unknown_key_near", name=ctx["key"], near=near) if near else \
            Said.of("check.unknown_key", name=ctx["key"], known=", ".join(ctx["known"]))
    if err["type"] == "number_bound":
        return ctx.get("said")
    if isinstance(ctx.get("error"), SaidError):
        return ctx["error"].said
    if err["type"] in _KINDS:
        return Said.of(f"check.pydantic.{err['type']}", **{k: _number(v) for k, v in ctx.items() if k != "error"})
    return None


def _number(value: Any) -> Any:
    """A bound as pydantic writes it: 100, not 100.0."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _data_path(data: Any, loc: tuple, missing: bool = False) -> Path_:
    """Pydantic's error location minus its union-branch labels, matched against the real data; with
    `missing`, the last part is a required key the data lacks."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif missing and i == len(loc) - 1 and isinstance(node, dict):
            path.append(part)  # a missing required key: name it, it has no line of its own
        # anything else is a label pydantic adds for a union branch or a validator: not in the file
    return tuple(path)


def _message(err: Mapping[str, Any]) -> str:
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return msg


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """A value that fails every branch of a union yields one problem per branch: keep the first per place."""
    seen: dict[tuple[int, str], Problem] = {}
    for p in problems:
        seen.setdefault((p.line, p.path), p)
    return list(seen.values())
