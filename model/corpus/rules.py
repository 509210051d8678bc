"""The vocabulary of the hand-written label table: a rule, the entry it yields, and `R`.

Kept apart from `table` (the lookup) so the two rule tables can import it while `table`
imports them.
"""

from dataclasses import dataclass

SKIP = ""


@dataclass(frozen=True)
class Rule:
    pattern: str
    label: str
    what: str = ""
    language: str = ""
    group: str = ""  # format string over the pattern's named groups; empty: the file itself


@dataclass(frozen=True)
class Entry:
    label: str
    group: str
    what: str = ""
    language: str = ""


def R(pattern: str, label: str, what: str = "", *, language: str = "", group: str = "") -> Rule:
    """Shorthand that keeps the tables one rule per line."""
    return Rule(pattern, label, what, language, group)
