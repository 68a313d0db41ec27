"""Reading a topology file (YAML or JSON) into plain data, remembering where each value was written.

JSON is read by the json module (for its exact syntax errors) and then again by the YAML
composer, which gives every value's line and column; YAML is read once. Duplicate keys, which
PyYAML would silently collapse, are reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any, NoReturn

import yaml

from lyncpki.inputs import MAX_INPUT_BYTES
from lyncpki.topology.issues import Path, TopologyError, TopologyIssue

Mark = tuple[int, int]  # 1-based line and column


@dataclass
class Marks:
    """Where each mapping value and sequence item of a parsed document was written."""

    by_id: dict[int, dict[Any, Mark] | list[Mark]] = field(default_factory=dict)
    root: Mark | None = None

    def find(self, data: Any, path: Path) -> Mark | None:
        """The mark of `path` in `data`, or of its nearest ancestor that has one."""
        best = self.root
        node = data
        for part in path:
            table = self.by_id.get(id(node))
            if table is None:
                break
            in_map = isinstance(table, dict) and isinstance(node, dict) and part in table
            in_list = isinstance(table, list) and isinstance(part, int) and 0 <= part < len(table)
            if in_map or in_list:
                best, node = table[part], node[part]  # type: ignore[index]
            else:
                break
        return best


class _MarkingLoader(yaml.SafeLoader):
    """A SafeLoader that records marks and duplicate keys while constructing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.value_marks = Marks()
        self.duplicates: list[tuple[int, Any, Mark]] = []  # (id of mapping, key, mark)

    def construct_marked_map(self, node: yaml.MappingNode) -> Iterator[dict[Any, Any]]:
        data: dict[Any, Any] = {}
        yield data
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            if not isinstance(key, str | int | bool | float):
                continue
            if key in seen:
                mark = key_node.start_mark
                self.duplicates.append((id(data), key, (mark.line + 1, mark.column + 1)))
            seen.add(key)
        data.update(self.construct_mapping(node))
        marks: dict[Any, Mark] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node)
            if isinstance(key, str | int | bool | float):
                marks[key] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
        self.value_marks.by_id[id(data)] = marks

    def construct_marked_seq(self, node: yaml.SequenceNode) -> Iterator[list[Any]]:
        data: list[Any] = []
        yield data
        data.extend(self.construct_sequence(node))
        self.value_marks.by_id[id(data)] = [
            (item.start_mark.line + 1, item.start_mark.column + 1) for item in node.value
        ]


_MarkingLoader.add_constructor("tag:yaml.org,2002:map", _MarkingLoader.construct_marked_map)
_MarkingLoader.add_constructor("tag:yaml.org,2002:seq", _MarkingLoader.construct_marked_seq)


@dataclass
class Document:
    """A parsed topology file: its name, its data and where each value came from."""

    source: str
    data: Any
    marks: Marks
    problems: list[TopologyIssue] = field(default_factory=list)  # found while parsing

    def issue(self, path: Path, message: str, fix: str) -> TopologyIssue:
        mark = self.marks.find(self.data, path)
        line, column = mark if mark else (None, None)
        return TopologyIssue(path, message, fix, line, column)


def _fail(
    source: str, message: str, fix: str, line: int | None = None, col: int | None = None
) -> NoReturn:
    raise TopologyError(source, [TopologyIssue((), message, fix, line, col)])


# A topology of ten thousand servers is about 100,000 values. YAML aliases (*name) repeat what
# an anchor (&name) holds without writing it again, so a few lines can stand for billions of
# values ("billion laughs"): the file is refused beyond this many values once aliases are
# expanded, before anything is built from it.
MAX_VALUES = 2_000_000


def _expanded_size(root: yaml.Node, source: str) -> int:
    """How many values the document holds once every alias is expanded (iteratively: a deep
    document must not exhaust Python's stack here); a document that contains itself fails."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[key] = size
            if size > MAX_VALUES:
                _fail(
                    source,
                    f"the file expands to more than {MAX_VALUES:,} values through YAML aliases "
                    "(*name repeating what &name holds)",
                    "write the values out, or use aliases for small repeated parts only",
                    node.start_mark.line + 1,
                    node.start_mark.column + 1,
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            _fail(
                source,
                "a YAML alias refers to a value that contains it (the file contains itself)",
                "remove the alias (*name) from inside what its anchor (&name) marks",
                node.start_mark.line + 1,
                node.start_mark.column + 1,
            )
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _compose(text: str, source: str) -> tuple[Any, _MarkingLoader]:
    loader = _MarkingLoader(text)
    try:
        try:
            node = loader.get_single_node()
            if node is not None:
                _expanded_size(node, source)
            data = loader.construct_document(node) if node is not None else None
        except RecursionError:
            _too_deep(source)
    finally:
        loader.dispose()
    return data, loader


def _too_deep(source: str) -> NoReturn:
    _fail(
        source,
        "values are nested too deeply to be read (hundreds of levels of lists or mappings)",
        "a topology nests a few levels: sites, pools, servers; check for runaway brackets",
    )


class _NotJson(ValueError):
    def __init__(self, constant: str) -> None:
        super().__init__(constant)
        self.constant = constant


def _not_json(constant: str) -> NoReturn:
    """NaN, Infinity and -Infinity, which strict JSON (RFC 8259) has no place for."""
    raise _NotJson(constant)


def parse_text(text: str, source: str, *, json_syntax: bool = False) -> Document:
    """Parse topology text; `json_syntax` reads it as strict JSON first."""
    if not text.strip():
        _fail(source, "the file is empty", "run `lyncpki topology init FILE` for an example")
    if json_syntax:
        try:
            plain = json.loads(text, parse_constant=_not_json)
        except RecursionError:
            _too_deep(source)
        except _NotJson as error:  # NaN, Infinity: Python's JSON reader takes them by default
            at = re.search(rf"(?<![\w\"]){re.escape(error.constant)}(?![\w\"])", text)
            line = text.count("\n", 0, at.start()) + 1 if at else None
            column = at.start() - text.rfind("\n", 0, at.start()) if at else None
            _fail(
                source,
                f"not valid JSON: {error.constant} is not a JSON value",
                "write a string (in quotes) or a number",
                line,
                column,
            )
        except json.JSONDecodeError as error:
            _fail(
                source,
                f"not valid JSON: {error.msg}",
                "correct the JSON syntax at this position (a missing comma or quote?)",
                error.lineno,
                error.colno,
            )
        try:
            data, loader = _compose(text, source)
        except yaml.YAMLError:  # valid JSON that YAML 1.1 cannot read (tabs): no line numbers
            return Document(source, plain, Marks())
    else:
        try:
            data, loader = _compose(text, source)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            problem = error.problem or "invalid YAML"
            second = "another document" in problem  # a '---' after the topology
            _fail(
                source,
                "a second YAML document begins here: a topology file holds one"
                if second
                else f"not valid YAML: {problem}"
                + (f" ({error.context})" if error.context else ""),
                "remove this '---' line and what follows it (or merge it into the topology above)"
                if second
                else "correct the YAML syntax here: check indentation, colons and quotes",
                mark.line + 1 if mark else None,
                mark.column + 1 if mark else None,
            )
        except yaml.YAMLError as error:
            _fail(source, f"not valid YAML: {error}", "correct the YAML syntax")
    if not isinstance(data, dict):
        _fail(
            source,
            f"the top level must be a mapping of fields, not {type(data).__name__}",
            "start the file with `sip_domains:`, `simple_urls:` and `sites:` "
            "(see `lyncpki topology init`)",
            1,
            1,
        )
    loader.value_marks.root = (1, 1)
    document = Document(source, data, loader.value_marks)
    document.problems.extend(
        TopologyIssue(
            (*_path_of(data, mapping_id), key),
            f"key '{key}' appears twice in the same mapping; only the last would be used",
            "keep one of them (merge their contents)",
            line,
            col,
        )
        for mapping_id, key, (line, col) in loader.duplicates
    )
    return document


def _path_of(data: Any, target: int, path: Path = ()) -> Path:
    """The path of the container whose id is `target` inside `data` (empty if not found)."""
    if id(data) == target:
        return path
    children = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for key, child in children:
        if isinstance(child, dict | list):
            found = _path_of(child, target, (*path, key))
            if found or id(child) == target:
                return found
    return ()


def read_file(path: FsPath) -> Document:
    """Read a topology file from disk; `.json` files are parsed as strict JSON."""
    source = str(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        _fail(source, "file not found", "check the path, or create one: lyncpki topology init")
    except IsADirectoryError:
        _fail(source, "is a directory, not a topology file", "name the .yaml or .json file")
    except OSError as error:
        _fail(source, f"cannot be read: {error.strerror}", "check its permissions")
    if len(raw) > MAX_INPUT_BYTES:
        _fail(
            source,
            f"is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB: not a topology file",
            "name the .yaml or .json topology (ten thousand servers take about a megabyte)",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        _fail(source, "is not UTF-8 text", "save the file as UTF-8", line, None)
    return parse_text(text, source, json_syntax=path.suffix.lower() == ".json")
