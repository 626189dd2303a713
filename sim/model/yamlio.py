"""Reading YAML safely: no code, no alias bombs, no silent duplicate keys, YAML 1.2 numbers.

Model files come from users, uploads and pull requests, so the reader refuses what would
make a small file expensive (aliases that expand to millions of nodes, nesting thousands
deep) before anything is built from it, and what would silently change its meaning (a
key given twice: the last one would win).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_NODES = 200_000
"""The most nodes a document may have once its aliases are expanded."""

MAX_DEPTH = 100
"""The deepest nesting of mappings and lists a document may have."""

# YAML 1.1 (PyYAML's default) reads 1e6 and 2.0e6 as strings; YAML 1.2 and every
# programming language read them as numbers, as users mean them.
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class YamlError(ValueError):
    """A document that cannot be read: the message says where and why."""


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """PyYAML's safe loader with YAML 1.2 floats."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def _where(node: yaml.Node) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _check(root: yaml.Node) -> None:
    """Refuse duplicate keys, deep nesting and alias expansion beyond MAX_NODES.

    Walks the node graph once with memoised sizes: an alias is a shared node, so its
    expanded size is counted each time it is used without walking it again.
    """
    sizes: dict[int, int] = {}
    # iterative post-order walk: (node, path, depth, children done)
    stack: list[tuple[yaml.Node, str, int, bool]] = [(root, "", 0, False)]
    on_path: set[int] = set()
    while stack:
        node, path, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(child)] for _, child in children)
            if sizes[key] > MAX_NODES:
                raise YamlError(
                    f"{_where(node)}: the document expands to more than {MAX_NODES:,} values "
                    "(aliases that repeat aliases); write the values out instead"
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YamlError(f"{_where(node)}: an alias refers to a value that contains it")
        if depth > MAX_DEPTH:
            raise YamlError(f"{_where(node)}: nested more than {MAX_DEPTH} levels deep")
        on_path.add(key)
        stack.append((node, path, depth, True))
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in seen:
                        name = f"{path}.{key_node.value}" if path else key_node.value
                        raise YamlError(
                            f"{_where(key_node)}: {name[:80]}: given twice (first at "
                            f"{_where(seen[key_node.value])}); the second would silently win"
                        )
                    seen[key_node.value] = key_node
        for label, child in _children(node):
            child_path = f"{path}.{label}" if path else label
            stack.append((child, child_path, depth + 1, False))


def _children(node: yaml.Node) -> list[tuple[str, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        out = []
        for key_node, value_node in node.value:
            label = str(key_node.value)[:80] if isinstance(key_node, yaml.ScalarNode) else "?"
            out.extend([(label, key_node), (label, value_node)])
        return out
    if isinstance(node, yaml.SequenceNode):
        return [(str(i), child) for i, child in enumerate(node.value)]
    return []


def parse_yaml(text: str) -> Any:
    """Parse one YAML document safely (see the module doc); raise YamlError on any problem."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check(root)
        return loader.construct_document(root)
    except RecursionError:
        raise YamlError(f"nested more than {MAX_DEPTH} levels deep") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(f"{where}not valid YAML: {str(problem)[:200]}") from None
    finally:
        loader.dispose()
