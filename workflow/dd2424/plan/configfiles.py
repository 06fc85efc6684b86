"""The config files as written, before Snakemake merges them: a key given twice in one mapping
(two top-level ``lab1:`` blocks, a setting repeated) is an error naming the file, the key and
both lines, instead of YAML's silent "the last one wins"."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from .errors import ConfigError


def _duplicates(node, path: str = ""):
    """(dotted key, first line, second line) of every key given twice in a mapping, at any
    depth of the composed YAML node (lines from 1)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            dotted = f"{path}.{name}" if path else name
            line = key.start_mark.line + 1
            if name in seen:
                yield dotted, seen[name], line
            else:
                seen[name] = line
            yield from _duplicates(value, dotted)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicates(item, f"{path}[{i}]")


def check_unique_keys(paths: Iterable[str | Path]) -> None:
    """ConfigError for the first key a config file gives twice in one mapping."""
    for path in paths:
        try:
            node = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # unreadable files are Snakemake's to report (it read them first)
        for key, first, second in _duplicates(node):
            raise ConfigError(
                f"config file {path}: the key {key} is given twice (lines {first} and "
                f"{second}); YAML would keep only the second, silently: merge the two into one"
            )
