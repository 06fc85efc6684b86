"""JSON-Schema validation of the config and of every run's settings, with the schemas' defaults
filled in.

Each schema file is parsed once per process, and the defaults of one distinct settings mapping
are filled once (a search of 1,000 trials that share their settings validates them once).  The
defaults are filled as ``snakemake.utils.validate`` fills them (jsonschema's "extend with
default" recipe: a property's ``default`` is set wherever its ``properties`` keyword is
evaluated, ``$ref``, ``allOf``/``if``-``then`` and ``oneOf`` branches included), so a run's
settings are exactly the ones the workflow has always trained with.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from pathlib import Path

import jsonschema
import yaml
from jsonschema import validators

from .errors import ConfigError

#: the schemas of a source checkout: workflow/schemas next to the package
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def non_finite(obj, key: str = "") -> list[str]:
    """The dotted keys of every NaN or infinite number in a config tree (YAML .nan, .inf)."""
    if isinstance(obj, dict):
        return [k for name, v in obj.items() for k in non_finite(v, f"{key}.{name}".lstrip("."))]
    if isinstance(obj, list):
        return [k for i, v in enumerate(obj) for k in non_finite(v, f"{key}[{i}]")]
    if isinstance(obj, float) and not math.isfinite(obj):
        return [key]
    return []


def short(value, width: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _with_defaults(validator_class):
    """A validator class that sets each property's ``default`` (a copy) where it is missing."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


class Schema:
    """One schema file: its violations as one-line messages, and its defaults filled in."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.schema = yaml.safe_load(self.path.read_text())
        self.checker = jsonschema.Draft202012Validator(self.schema)
        self.filler = _with_defaults(jsonschema.Draft202012Validator)(self.schema)
        self._filled: dict[str, object] = {}

    def errors(self, instance, prefix: str = "") -> list[str]:
        """One line per violation (key, value, rule), without the schema dump of a plain
        jsonschema error; for oneOf/anyOf the most relevant sub-error (jsonschema's
        best_match)."""
        errors = self.checker.iter_errors(instance)
        return sorted({line for error in errors for line in _lines(error, prefix)})

    def filled(self, instance):
        """A copy of ``instance`` with the schema's defaults filled in (once per distinct
        instance; key order is kept, as the instance is also what a job's params show)."""
        key = json.dumps(instance, default=repr)
        if key not in self._filled:
            out = copy.deepcopy(instance)
            self.filler.validate(out)
            self._filled[key] = out
        return copy.deepcopy(self._filled[key])

    def check(self, instance, where: str, prefix: str = "") -> None:
        """Any NaN/inf number or schema violation of ``instance`` is a ConfigError naming the
        keys (``where`` names the config entry)."""
        bad = [f"  {k}: not a finite number" for k in non_finite(instance, prefix)]
        errors = bad or self.errors(instance, prefix)
        if errors:
            raise ConfigError(f"config {where} is invalid:\n" + "\n".join(errors))

    def checked(self, instance, where: str, prefix: str = ""):
        """``instance`` checked (``check``), with its defaults filled in."""
        self.check(instance, where, prefix)
        return self.filled(instance)


def _lines(error, prefix: str) -> list[str]:
    error = jsonschema.exceptions.best_match([error])
    key = ".".join([prefix, *map(str, error.absolute_path)]).strip(".")
    check = f"{error.validator}: {short(error.validator_value, 60)}"
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return [f"  {key}.{k}: missing (a required key)".replace(" .", " ") for k in missing]
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        unknown = [k for k in error.instance if k not in known]
        return [
            f"  {key or '(top level)'}: unknown key(s) {', '.join(map(str, unknown))} "
            f"(allowed: {', '.join(known) or 'see the schema'})"
        ]
    if error.validator in ("oneOf", "anyOf"):
        need = "exactly one" if error.validator == "oneOf" else "at least one"
        return [f"  {key or '(top level)'}: needs {need} of ({check})"]
    bounds = ("const", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
    why = error.schema.get("description") if error.validator in bounds else None
    if error.validator == "type" and isinstance(error.instance, str):
        why = yaml_number_hint(error.instance)
    return [
        f"  {key or '(top level)'} = {short(error.instance)}: {short(error.message, 160)} "
        f"({check})" + (f": {why}" if why else "")
    ]


#: a number YAML 1.1 reads as text: no dot in the mantissa, or no sign in the exponent
_NUMBER_TEXT = re.compile(r"([-+]?)(\d+\.?\d*|\.\d+)[eE]([-+]?)(\d+)")


def yaml_number_hint(text: str) -> str | None:
    """For a value like ``1e-1`` (text to YAML 1.1, which needs ``1.0e-1``): how to write it
    as a number; None if it does not look like one."""
    match = _NUMBER_TEXT.fullmatch(text.strip())
    if not match:
        return None
    sign, mantissa, exp_sign, exponent = match.groups()
    mantissa = mantissa if "." in mantissa else mantissa + ".0"
    number = f"{sign}{mantissa}e{exp_sign or '+'}{exponent}"
    return (
        f"YAML reads {text!r} as text, not as a number (YAML 1.1 needs a dot in the mantissa "
        f"and a sign in the exponent): write {number}"
    )


@functools.cache
def schema(name: str, directory: str = str(SCHEMA_DIR)) -> Schema:
    """The schema ``name`` of ``directory``, parsed once per process."""
    return Schema(Path(directory) / name)
