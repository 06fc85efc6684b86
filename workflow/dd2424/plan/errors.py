"""The one error a config problem raises."""

from __future__ import annotations


class ConfigError(ValueError):
    """A config the pipeline cannot run: one message that names the dotted key, the value, the
    rule it breaks and the fix (the workflow shows it as one line, without a traceback)."""
