"""Safe YAML loader whose values remember the file and line they came from, with HA-style include tags."""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..exceptions import ConfigError

__all__ = [
    "Input",
    "NodeDict",
    "NodeList",
    "NodeStr",
    "Secrets",
    "get_location",
    "load_yaml",
]

_LOGGER = logging.getLogger(__name__)

SECRETS_FILE = "secrets.yaml"

Location = tuple[str, int]

# libyaml's parser is several times faster; fall back to the pure-Python one where PyYAML lacks it.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG_STR = "tag:yaml.org,2002:str"
_TAG_MAP = "tag:yaml.org,2002:map"
_TAG_SEQ = "tag:yaml.org,2002:seq"
_TAG_INT = "tag:yaml.org,2002:int"
_TAG_FLOAT = "tag:yaml.org,2002:float"
_TAG_MERGE = "tag:yaml.org,2002:merge"


class NodeDict(dict[Any, Any]):
    """A mapping from YAML that knows its file and line, and the line of each of its keys."""

    __config_file__: str | None = None
    __line__: int | None = None
    _key_locs: dict[Any, Location] | None = None

    def key_location(self, key: Any) -> Location | None:
        """(file, line) of `key:` in this mapping, or None when unknown."""
        locs = self._key_locs
        return None if locs is None else locs.get(key)

    def key_line(self, key: Any) -> int | None:
        """1-based line of `key:` in this mapping, or None when unknown."""
        loc = self.key_location(key)
        return None if loc is None else loc[1]


class NodeList(list[Any]):
    """A sequence from YAML that knows its file and line, and the line of each item."""

    __config_file__: str | None = None
    __line__: int | None = None
    _item_locs: list[Location] | None = None

    def item_location(self, index: int) -> Location | None:
        """(file, line) of item `index`, or None when unknown."""
        locs = self._item_locs
        if locs is None or not -len(locs) <= index < len(locs) or len(locs) != len(self):
            return None
        return locs[index]


class NodeStr(str):
    """A string from YAML that knows its file and line."""

    __config_file__: str | None = None
    __line__: int | None = None
    # Set on values that came from !secret so errors never print them.
    __secret__: bool = False


def get_location(obj: Any, key: Any = None) -> Location | None:
    """(file, line) of `obj`, or of `key` inside it (falling back to `obj` itself); None when unknown."""
    if key is not None:
        loc: Location | None = None
        if isinstance(obj, NodeDict):
            loc = obj.key_location(key)
        elif isinstance(obj, NodeList) and isinstance(key, int) and not isinstance(key, bool):
            loc = obj.item_location(key)
        if loc is not None:
            return loc
    file = getattr(obj, "__config_file__", None)
    line = getattr(obj, "__line__", None)
    if file is None or line is None:
        return None
    return file, line


def _set_location(obj: Any, file: str, line: int) -> Any:
    obj.__config_file__ = file
    obj.__line__ = line
    return obj


class Secrets:
    """Resolves `!secret NAME` from secrets.yaml beside the requesting file, searching up to the root."""

    def __init__(self, config_dir: str | os.PathLike[str]) -> None:
        self.config_dir = Path(config_dir)
        self._root = self.config_dir.resolve()
        self._cache: dict[Path, dict[str, Any] | None] = {}

    def _candidates(self, requester: str) -> Iterator[tuple[str, Path]]:
        """secrets.yaml paths to try, nearest first: (path as shown, resolved path)."""
        shown = Path(requester).parent
        current = shown.resolve()
        while True:
            yield str(shown / SECRETS_FILE), current / SECRETS_FILE
            if current == self._root or not current.is_relative_to(self._root) or current.parent == current:
                break
            current = current.parent
            shown = shown.parent
        if not current.is_relative_to(self._root):
            # A file included from outside the config dir still sees the root secrets.
            yield str(self.config_dir / SECRETS_FILE), self._root / SECRETS_FILE

    def _load(self, path: Path, shown: str) -> dict[str, Any] | None:
        if path in self._cache:
            return self._cache[path]
        secrets: dict[str, Any] | None = None
        if path.is_file():
            data = _load_file(shown, None, ())
            if data is None:
                data = {}
            if not isinstance(data, dict):
                raise ConfigError(f"{shown}:1: secrets file must be a mapping of name: value")
            secrets = data
            _LOGGER.debug("Loaded %d secrets from %s", len(secrets), shown)
        self._cache[path] = secrets
        return secrets

    def get(self, requester: str, name: str) -> Any:
        """The value of secret `name` for the file `requester`; ConfigError naming the files searched."""
        searched: list[str] = []
        for shown, path in self._candidates(requester):
            secrets = self._load(path, shown)
            if secrets is None:
                searched.append(f"{shown} (absent)")
                continue
            if name in secrets:
                _LOGGER.debug("Secret %s found in %s", name, shown)
                return secrets[name]
            searched.append(shown)
        raise ConfigError(f"secret {name!r} not found (searched {', '.join(searched)})")


# --------------------------------------------------------------------------- the loader


class _HachoLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that builds Node* objects; per-load context is set as attributes after construction."""

    file: str
    secrets: Secrets | None
    chain: tuple[str, ...]
    collect: list[str] | None  # when a list: an included file that fails adds its errors here and is skipped

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        """Resolver.resolve with a cache: without path resolvers a plain scalar's tag depends on its text."""
        if kind is ScalarNode:
            if not implicit[0]:
                return _TAG_STR
            tag = _SCALAR_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_SCALAR_TAGS) >= _SCALAR_TAGS_MAX:
                    _SCALAR_TAGS.clear()
                _SCALAR_TAGS[value] = tag
            return tag
        if kind is MappingNode:
            return _TAG_MAP
        return _TAG_SEQ


_SCALAR_TAGS: dict[str, str] = {}
_SCALAR_TAGS_MAX = 20_000


# YAML 1.1 reads `12:30:00` as the sexagesimal int 45000 and `0100` as octal 64; in configuration these are a
# time and a Modbus address, so follow YAML 1.2: no sexagesimal, leading zeros are decimal, octal is `0o`.
_HachoLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_TAG_INT, _TAG_FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_HachoLoader.add_implicit_resolver(
    _TAG_INT,
    re.compile(r"""^(?:[-+]?0b[0-1_]+
                |[-+]?0o[0-7_]+
                |[-+]?[0-9][0-9_]*
                |[-+]?0x[0-9a-fA-F_]+)$""", re.X),
    list("-+0123456789"),
)
_HachoLoader.add_implicit_resolver(
    _TAG_FLOAT,
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
                |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
                |[-+]?\.(?:inf|Inf|INF)
                |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."),
)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _error(loader: _HachoLoader, node: Node, message: str) -> ConfigError:
    return ConfigError(f"{loader.file}:{_line(node)}: {message}")


def _construct_str(loader: _HachoLoader, node: ScalarNode) -> NodeStr:
    value = NodeStr(node.value)
    value.__config_file__ = loader.file
    value.__line__ = node.start_mark.line + 1
    return value


def _construct_int(loader: _HachoLoader, node: ScalarNode) -> int:
    text = str(node.value).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    try:
        for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
            if text.startswith(prefix):
                return sign * int(text[2:], base)
        return sign * int(text, 10)
    except ValueError:
        raise _error(loader, node, f"invalid integer {node.value!r}") from None


def _construct_seq(loader: _HachoLoader, node: SequenceNode) -> Iterator[NodeList]:
    """Constructor for sequences reached through PyYAML's own construct_object (inside other tags)."""
    data = _set_location(NodeList(), loader.file, node.start_mark.line + 1)
    yield data
    _fill_seq(loader, data, node, functools.partial(loader.construct_object, deep=False))


def _construct_map(loader: _HachoLoader, node: MappingNode) -> Iterator[NodeDict]:
    """Constructor for mappings reached through PyYAML's own construct_object (inside other tags)."""
    data = _set_location(NodeDict(), loader.file, node.start_mark.line + 1)
    yield data
    _fill_map(loader, data, node, functools.partial(loader.construct_object, deep=False))


def _fill_seq(loader: _HachoLoader, data: NodeList, node: SequenceNode, build: Callable[[Node], Any]) -> None:
    file = loader.file
    data.extend([build(child) for child in node.value])
    data._item_locs = [(file, child.start_mark.line + 1) for child in node.value]


def _fill_map(loader: _HachoLoader, data: NodeDict, node: MappingNode, build: Callable[[Node], Any]) -> None:
    pairs = node.value
    merge_count = sum(1 for key_node, _ in pairs if key_node.tag == _TAG_MERGE)
    if merge_count:
        explicit = len(pairs) - merge_count
        loader.flatten_mapping(node)
        pairs = node.value
    else:
        explicit = len(pairs)
    merged = len(pairs) - explicit  # merged (<<) pairs come first; explicit keys may override them
    file = loader.file
    locs: dict[Any, Location] = {}
    seen: dict[Any, int] = {}
    for index, (key_node, value_node) in enumerate(pairs):
        if key_node.tag == _TAG_STR and isinstance(key_node, ScalarNode):
            key: Any = key_node.value
        else:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, NodeStr):
                key = str(key)
            try:
                hash(key)
            except TypeError:
                raise _error(loader, key_node, f"a mapping key must be a scalar, got {_kind(key)}") from None
        line = key_node.start_mark.line + 1
        if index >= merged:
            if key in seen:
                raise ConfigError(f"{file}:{line}: duplicate key {key!r} (first defined at line {seen[key]})")
            seen[key] = line
        data[key] = build(value_node)
        locs[key] = (file, line)
    data._key_locs = locs


def _build(loader: _HachoLoader, node: Node) -> Any:
    """Construct `node` directly for the common tags; much faster than PyYAML's generic construct_object."""
    tag = node.tag
    if tag == _TAG_STR and isinstance(node, ScalarNode):
        value = NodeStr(node.value)
        value.__config_file__ = loader.file
        value.__line__ = node.start_mark.line + 1
        return value
    cache = loader.constructed_objects
    if node in cache:  # an alias of an anchored node built earlier
        return cache[node]
    if tag == _TAG_MAP and isinstance(node, MappingNode):
        data: Any = _set_location(NodeDict(), loader.file, node.start_mark.line + 1)
        cache[node] = data
        _fill_map(loader, data, node, functools.partial(_build, loader))
        return data
    if tag == _TAG_SEQ and isinstance(node, SequenceNode):
        data = _set_location(NodeList(), loader.file, node.start_mark.line + 1)
        cache[node] = data
        _fill_seq(loader, data, node, functools.partial(_build, loader))
        return data
    return loader.construct_object(node, deep=True)


def _scalar_arg(loader: _HachoLoader, node: Node, tag: str) -> str:
    if not isinstance(node, ScalarNode) or not str(node.value).strip():
        raise _error(loader, node, f"{tag} needs a value, e.g. `{tag} name`")
    return str(node.value).strip()


def _construct_secret(loader: _HachoLoader, node: Node) -> Any:
    name = _scalar_arg(loader, node, "!secret")
    if loader.secrets is None:
        raise _error(loader, node, "!secret cannot be used here (secrets files cannot refer to secrets)")
    try:
        value = loader.secrets.get(loader.file, name)
    except ConfigError as err:
        raise _error(loader, node, str(err)) from None
    if isinstance(value, str):
        value = _set_location(NodeStr(value), loader.file, _line(node))
        value.__secret__ = True
    return value


class Input:
    """`!input name` in a blueprint: replaced by the value the automation gives for input `name`."""

    __slots__ = ("__config_file__", "__line__", "name")

    def __init__(self, name: str, file: str | None = None, line: int | None = None) -> None:
        self.name = name
        self.__config_file__ = file
        self.__line__ = line

    def __repr__(self) -> str:
        return f"Input({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Input) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("!input", self.name))


def _construct_input(loader: _HachoLoader, node: Node) -> Input:
    return Input(_scalar_arg(loader, node, "!input"), loader.file, _line(node))


# `${NAME}` or `${NAME:-default}` inside an `!env_var "..."` string.
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _construct_env_var(loader: _HachoLoader, node: Node) -> NodeStr:
    """`!env_var NAME default`, or a string with `${NAME:-default}` references (`!env_var "http://h:${PORT:-80}/"`)."""
    arg = _scalar_arg(loader, node, "!env_var")
    if "${" in arg:
        return _set_location(NodeStr(_interpolate(loader, node, arg)), loader.file, _line(node))
    name, _, default = arg.partition(" ")
    value = os.environ.get(name)
    if value is None:
        if not default.strip():
            raise _error(loader, node, f"environment variable {name!r} is not set and no default is given")
        value = default.strip()
    return _set_location(NodeStr(value), loader.file, _line(node))


def _interpolate(loader: _HachoLoader, node: Node, text: str) -> str:
    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found is not None:
            return found
        if default is None:
            raise _error(loader, node, f"environment variable {name!r} is not set and no default is given "
                                       f"(write ${{{name}:-default}})")
        return default

    if "${" in _ENV_REFERENCE.sub("", text):
        raise _error(loader, node, f"!env_var: malformed reference in {text!r} (expected ${{NAME}} or "
                                   "${NAME:-default})")
    return _ENV_REFERENCE.sub(value, text)


def _resolve(loader: _HachoLoader, node: Node, tag: str) -> str:
    arg = _scalar_arg(loader, node, tag)
    return os.path.normpath(os.path.join(os.path.dirname(loader.file), arg))


def _construct_include(loader: _HachoLoader, node: Node) -> Any:
    path = _resolve(loader, node, "!include")
    if not os.path.isfile(path):
        raise _error(loader, node, f"!include: file not found: {path}")
    return _include(loader, node, path)


def _include(loader: _HachoLoader, node: Node, path: str) -> Any:
    real = os.path.realpath(path)
    if real in loader.chain:
        raise _error(loader, node, f"include cycle: {path} is already being loaded")
    try:
        return _load_file(path, loader.secrets, (*loader.chain, real), loader.collect)
    except ConfigError as err:
        if loader.collect is None:
            raise
        loader.collect.extend(err.errors)  # a broken file stops only itself
        return None


def _dir_files(loader: _HachoLoader, node: Node, tag: str) -> tuple[str, list[str]]:
    """The tag's directory and its .yaml files: recursive, sorted, without hidden files and secrets.yaml."""
    directory = _resolve(loader, node, tag)
    if not os.path.isdir(directory):
        raise _error(loader, node, f"{tag}: directory not found: {directory}")
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        found.extend(os.path.join(root, name) for name in files
                     if name.endswith(".yaml") and not name.startswith(".") and name != SECRETS_FILE)
    return directory, sorted(found)


def _loaded(loader: _HachoLoader, node: Node, tag: str) -> Iterator[tuple[str, Any]]:
    """(path, content) of each non-empty file in the directory of a dir tag."""
    _, files = _dir_files(loader, node, tag)
    for path in files:
        data = _include(loader, node, path)
        if data is not None:
            yield path, data


def _new_list(loader: _HachoLoader, node: Node) -> NodeList:
    return _set_location(NodeList(), loader.file, _line(node))


def _new_dict(loader: _HachoLoader, node: Node) -> NodeDict:
    result = _set_location(NodeDict(), loader.file, _line(node))
    result._key_locs = {}
    return result


def _whole_file_loc(data: Any, path: str) -> Location:
    return get_location(data) or (path, 1)


def _construct_dir_list(loader: _HachoLoader, node: Node) -> NodeList:
    result = _new_list(loader, node)
    locs: list[Location] = []
    for path, data in _loaded(loader, node, "!include_dir_list"):
        result.append(data)
        locs.append(_whole_file_loc(data, path))
    result._item_locs = locs
    return result


def _construct_dir_merge_list(loader: _HachoLoader, node: Node) -> NodeList:
    result = _new_list(loader, node)
    locs: list[Location] = []
    for path, data in _loaded(loader, node, "!include_dir_merge_list"):
        if not isinstance(data, list):
            raise ConfigError(f"{path}:1: !include_dir_merge_list expects each file to hold a list, "
                              f"got {_kind(data)}")
        result.extend(data)
        locs.extend(_items_locs(data, path))
    result._item_locs = locs
    return result


def _items_locs(data: list[Any], path: str) -> Iterable[Location]:
    for index in range(len(data)):
        yield get_location(data, index) or (path, 1)


def _construct_dir_named(loader: _HachoLoader, node: Node) -> NodeDict:
    result = _new_dict(loader, node)
    assert result._key_locs is not None
    sources: dict[str, str] = {}
    for path, data in _loaded(loader, node, "!include_dir_named"):
        name = os.path.splitext(os.path.basename(path))[0]
        if name in sources:
            raise _error(loader, node, f"!include_dir_named: {path} and {sources[name]} both define {name!r}")
        sources[name] = path
        result[name] = data
        result._key_locs[name] = _whole_file_loc(data, path)
    return result


def _construct_dir_merge_named(loader: _HachoLoader, node: Node) -> NodeDict:
    result = _new_dict(loader, node)
    assert result._key_locs is not None
    for path, data in _loaded(loader, node, "!include_dir_merge_named"):
        if not isinstance(data, dict):
            raise ConfigError(f"{path}:1: !include_dir_merge_named expects each file to hold a mapping, "
                              f"got {_kind(data)}")
        for key, value in data.items():
            loc = get_location(data, key) or (path, 1)
            if key in result:
                first = result._key_locs.get(key)
                where = f"{first[0]}:{first[1]}" if first else "another file"
                raise ConfigError(f"{loc[0]}:{loc[1]}: duplicate key {key!r} (already defined at {where})")
            result[key] = value
            result._key_locs[key] = loc
    return result


def _kind(data: Any) -> str:
    if isinstance(data, dict):
        return "a mapping"
    if isinstance(data, list):
        return "a list"
    return f"a {type(data).__name__}"


for _tag, _constructor in (
    (_TAG_STR, _construct_str),
    (_TAG_INT, _construct_int),
    (_TAG_SEQ, _construct_seq),
    (_TAG_MAP, _construct_map),
    ("!secret", _construct_secret),
    ("!env_var", _construct_env_var),
    ("!input", _construct_input),
    ("!include", _construct_include),
    ("!include_dir_list", _construct_dir_list),
    ("!include_dir_merge_list", _construct_dir_merge_list),
    ("!include_dir_named", _construct_dir_named),
    ("!include_dir_merge_named", _construct_dir_merge_named),
):
    _HachoLoader.add_constructor(_tag, _constructor)


def _load_file(path: str, secrets: Secrets | None, chain: tuple[str, ...],
               collect: list[str] | None = None) -> Any:
    """Parse one file; None when it is empty. Every failure is a ConfigError naming file:line."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not valid UTF-8 ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read file ({err.strerror})") from None
    loader = _HachoLoader(text)
    loader.file = path
    loader.secrets = secrets
    loader.chain = chain or (os.path.realpath(path),)
    loader.collect = collect
    try:
        node = loader.get_single_node()
        return None if node is None else _build(loader, node)
    except yaml.MarkedYAMLError as err:
        raise ConfigError(_describe_yaml_error(path, err)) from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from None
    finally:
        loader.dispose()


def _describe_yaml_error(path: str, err: yaml.MarkedYAMLError) -> str:
    mark = err.problem_mark or err.context_mark
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else path
    problem = err.problem or "invalid YAML"
    match = re.match(r"could not determine a constructor for the tag '([^']*)'", problem)
    if match:
        return f"{where}: unknown tag {match.group(1)!r}"
    message = f"{where}: invalid YAML: {problem}"
    if err.context:
        context_line = f" at line {err.context_mark.line + 1}" if err.context_mark is not None else ""
        message += f" ({err.context}{context_line})"
    return message


def load_yaml(path: str | os.PathLike[str], secrets: Secrets | None = None,
              collect: list[str] | None = None) -> Any:
    """Load a YAML file (blocking: run it in an executor). An empty file gives an empty NodeDict.

    `secrets` defaults to one rooted at the file's directory. Raises ConfigError naming file:line[:column].
    With `collect` (a list), an included file that cannot be loaded adds its errors there and reads as
    empty, so the other files are still loaded (check-config reports every file's errors in one run).
    """
    path = os.fspath(path)
    if secrets is None:
        secrets = Secrets(os.path.dirname(path) or ".")
    data = _load_file(path, secrets, (), collect)
    if data is None:
        return _set_location(NodeDict(), path, 1)
    return data
