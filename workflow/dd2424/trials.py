"""One trial of a search, as a job reads it: its values from a row of the search's grid (or
ranked) TSV, applied to the run's settings.

A trial job reads its row without pandas (0.2-0.3 s of import, against ~0.01 s for the
read): each searched value is typed as ``pandas.read_csv`` types its column (a column of
integers: int; of numbers: float; else text, JSON text decoded), and a grid with a column
this reader cannot type exactly as pandas does (missing cells, booleans, NaN-like or infinite
values, numbers of more than 15 significant digits) is read by pandas instead, each value
taken from its column.  The grids hold values rounded to 6 significant digits
(``search.to_value``), so pandas is never needed for them; either way a trial gets the same
values, bit for bit.  (A value is its column's, not its row's: a row of numbers alone, read
as one pandas row, would turn an integer setting such as ``n_batch`` into a float.)
"""

from __future__ import annotations

import copy
import csv
import json
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .nested import set_path

_INT = re.compile(r"-?[0-9]+")
# a decimal number: digits, an optional fraction, an optional exponent
_FLOAT = re.compile(r"-?([0-9]*)\.?([0-9]*)(?:[eE]([+-]?[0-9]+))?")
# what pandas reads as missing (read_csv's default na_values) or as a boolean
_NA = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND"}
_NA |= {"1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
_BOOL = {"true", "false"}


def trial_values(row: Mapping, parameters: list[str]) -> dict:
    """{dotted path: value} of one row of a grid (a mapping or a pandas row): JSON lists and
    mappings decoded, other text kept (e.g. ``batch_norm_position``), NumPy scalars made
    Python booleans and numbers."""
    out = {}
    for path in parameters:
        value = row[path]
        if isinstance(value, str):
            value = json.loads(value) if value.startswith(("[", "{")) else value
        elif isinstance(value, np.generic):
            value = value.item()
        out[path] = value
    return out


def grid_trial(grid: str | Path, row: int, parameters: list[str]) -> dict:
    """``trial_values`` of row ``row`` (0 = the first after the header) of the grid TSV
    ``grid`` (written by ``search.random_grid`` or ``search.stage_grid``, or a ranked table),
    each value typed as ``pandas.read_csv`` types its column."""
    with open(grid, newline="") as f:
        lines = [line for line in csv.reader(f, delimiter="\t") if line]  # pandas skips blanks
    header, body = lines[0], lines[1:]
    typed = {}
    for path in parameters:
        if header.count(path) != 1 or any(len(line) != len(header) for line in body):
            typed = None
            break
        cells = [line[header.index(path)] for line in body]
        kind = _column_kind(cells)
        if kind is None:
            typed = None
            break
        typed[path] = kind(cells[row])
    if typed is None:
        import pandas as pd  # a grid this reader cannot type exactly: pandas reads it

        table = pd.read_csv(grid, sep="\t")  # each value from its column (a row of numbers
        typed = {path: table[path].iloc[row] for path in parameters}  # alone: all floats)
    return trial_values(typed, parameters)


def _column_kind(cells: list[str]) -> type | None:
    """int, float or str: how pandas types a column of these cells, when that is certain and
    Python's int(), float() or str() gives the values pandas gives; else None."""
    if all(_INT.fullmatch(c) for c in cells):
        return int if all(-(2**63) <= int(c) < 2**63 for c in cells) else None
    if all(_INT.fullmatch(c) or _exact_float(c) for c in cells):
        return float
    if any(_is_text(c) for c in cells) and not any(c in _NA for c in cells):
        return str  # one cell that is no number makes the column text, all its cells kept
    return None


def _exact_float(cell: str) -> bool:
    """Whether ``cell`` is a decimal number that pandas' parser and Python's float() both
    round correctly: at most 15 significant digits (an exact integer in a double; 17 digits
    at most with leading zeros, all of which pandas reads) scaled by a power of ten up to
    10**22 (exact too), one correctly rounded operation."""
    match = _FLOAT.fullmatch(cell)
    if not match:
        return False
    whole, fraction, exponent = match.group(1), match.group(2), int(match.group(3) or 0)
    digits = whole + fraction
    return (
        0 < len(digits) <= 17
        and len(digits.lstrip("0")) <= 15
        and -22 <= exponent - len(fraction) <= 22
    )


def _is_text(cell: str) -> bool:
    """Whether no reader takes ``cell`` for a number, a boolean or a missing value."""
    if not cell[:1].isalpha() and cell[:1] not in ("[", "{"):
        return False
    if cell.lower() in _BOOL or cell in _NA:
        return False
    try:
        float(cell)  # inf, nan, infinity in any case
    except ValueError:
        return True
    return False


def apply_trial(settings: Mapping, trial: Mapping) -> dict:
    """A copy of ``settings`` with every dotted path of ``trial`` set to its value."""
    out = copy.deepcopy(dict(settings))
    for path, value in trial.items():
        out = set_path(out, path, value)
    return out
