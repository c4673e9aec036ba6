"""The one error every reader raises for a file that is not what it claims to be."""


class CorruptFileError(ValueError):
    """A file that is not a valid nnlab model or weights file (damaged, truncated, foreign or
    crafted); the message names the file and what is wrong."""
