"""Errors a user can cause. Each message says what to do; front ends print it as one line."""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base class: a problem the user can fix. Front ends show ``str(err)`` and exit non-zero."""


class ConfigError(NewsdeskError):
    """A setting is unknown, malformed or points at something that does not exist."""


class CorpusError(NewsdeskError):
    """The corpus directory is missing, is not a directory, or holds no readable article."""


class IndexUnusableError(NewsdeskError):
    """The index on disk cannot be used (corrupt, other format, cannot be written)."""


class QuestionError(NewsdeskError):
    """The question is empty or too long."""
