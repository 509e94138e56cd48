"""Errors the CLI reports to the user. Library code raises these; only the CLI prints and exits."""

from __future__ import annotations

import click


class SitegenError(click.ClickException):
    """Base class: a problem the user can fix, reported as one message and exit code 1."""

    exit_code = 1


class ConfigError(SitegenError):
    """site.toml (or a command-line override) is invalid. Carries every error found, each named by its key."""

    def __init__(self, errors: list[str], path: str = "site.toml"):
        self.errors = list(errors)
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"invalid configuration in {path} ({len(self.errors)} error(s)):\n{lines}")


class CatalogError(SitegenError):
    """The catalog cannot be read at all (missing file, unknown format, missing mapped column)."""


class StrictError(SitegenError):
    """--strict turned a warning or a rejected row into a failure."""

    exit_code = 2


class SlugCollisionError(SitegenError):
    """Two sources would publish to the same URL."""

    def __init__(self, url: str, first: str, second: str):
        self.url, self.first, self.second = url, first, second
        super().__init__(f"slug collision: {url} is claimed by both {first} and {second}")


class BuildError(SitegenError):
    """A stage failed; the previous build/ is left untouched."""


class ModelError(SitegenError):
    """A model or backend could not be loaded or reached."""


class PluginError(SitegenError, LookupError):
    """An extension point or a plugin name is unknown, taken twice, or a plugin failed to load."""


class StoreError(SitegenError):
    """The state database cannot be used: corrupt, written by a newer sitegen, or without a backup to restore."""


class StoreLockedError(StoreError):
    """Another process (a build) holds the store."""


class OutputError(SitegenError):
    """The output folder cannot be used (it holds sources or foreign files) or cannot be written."""


class SignalsError(SitegenError):
    """A Search Console / GA4 export cannot be read or imported (not an export, a missing column, an unreadable
    file), or a redirects file is malformed."""


class SimulationError(SitegenError):
    """The closed-loop simulator cannot run as asked (a foreign work folder, a missing loop step)."""


class TrendError(SitegenError):
    """The trend agent cannot do what was asked: an unknown proposal, or one that is already decided."""
