"""The one error the corpus builder reports to its user.

`model` knows nothing of the host, so the builder raises `CorpusError` and the
`clapsep corpus` command turns it into the CLI's one-line `UserError`.
"""


class CorpusError(Exception):
    """Bad options or a machine that cannot build: unknown package, not root, wrong corpus folder."""
