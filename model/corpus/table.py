"""Looking up a source file in the hand-written label table.

Game files are named for the game, not for their sound, so every label comes from a
rule someone wrote after inspecting the installed files: `table_speech` (voices,
speakers, languages) and `table_effects` (everything else). Rules are regular
expressions searched in the path relative to the package root; the first match wins,
a rule with an empty label skips on purpose, and a file no rule matches is skipped
and counted as unlabelled.

The split group is what must never straddle train and validation: the source file by
default, or a speaker / voice pack / drum piece named by the rule.
"""

import re
from functools import cache

from clapsep.model.corpus.rules import SKIP, Entry, Rule
from clapsep.model.corpus.table_effects import EFFECT_RULES
from clapsep.model.corpus.table_speech import SPEECH_RULES


@cache
def _rules(package: str) -> tuple[tuple[re.Pattern[str], Rule], ...]:
    rules = SPEECH_RULES.get(package, ()) + EFFECT_RULES.get(package, ())
    return tuple((re.compile(rule.pattern, re.IGNORECASE), rule) for rule in rules)


def labelled_packages() -> set[str]:
    """Packages the table has rules for."""
    return set(SPEECH_RULES) | set(EFFECT_RULES)


def all_rules() -> list[Rule]:
    """Every rule in both tables (for consistency checks)."""
    return [rule for package in sorted(labelled_packages()) for _, rule in _rules(package)]


def lookup(package: str, relpath: str) -> Entry | None:
    """The label entry for a file, or None when the table says nothing (or says skip)."""
    for pattern, rule in _rules(package):
        match = pattern.search(relpath)
        if not match:
            continue
        if rule.label == SKIP:
            return None
        fields = {k: v for k, v in match.groupdict().items() if v is not None}
        group = rule.group.format(**fields) if rule.group else relpath
        return Entry(
            label=rule.label,
            group=f"{package}:{group}",
            what=rule.what.format(**fields).lower() if rule.what else "",
            language=rule.language or fields.get("lang", ""),
        )
    return None
