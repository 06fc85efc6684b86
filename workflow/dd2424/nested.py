"""Nested settings (a config's mappings): deep merge, dotted paths, flattening.

A run's settings are a lab's ``defaults`` deep-merged with the run's own entries; searches
address one setting by its dotted path (``schedule.eta_max``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping


def merge(defaults: Mapping, override: Mapping) -> dict:
    """Deep-merge two config mappings: ``override`` wins, nested mappings merge, and a
    ``None`` (YAML ``null``) in ``override`` removes the key (e.g. ``n_s: null`` to switch
    a cyclic schedule inherited with ``n_s`` to ``n_s_epochs``)."""
    out = copy.deepcopy(dict(defaults))
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def get_path(settings: Mapping, path: str):
    node = settings
    for key in path.split("."):
        node = node[key]
    return node


def set_path(settings: Mapping, path: str, value) -> dict:
    """A copy of ``settings`` with the entry at dotted ``path`` set to ``value``."""
    out = copy.deepcopy(dict(settings))
    node = out
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return out


def flatten(settings: Mapping, prefix: str = "") -> dict:
    """{dotted path: value} of the leaves of nested settings (``{"augment": {"flip": True}}``
    -> ``{"augment.flip": True}``)."""
    out = {}
    for key, value in settings.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out |= flatten(value, f"{path}.")
        else:
            out[path] = value
    return out
