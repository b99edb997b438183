"""The brand lexicon: our company and its products, and each competitor, with aliases.

An organisation's own name is always one of its aliases. Finding the brands in a text is
one compiled regular expression over every alias (longest first, whole words, any case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from convenor.people.models import Organization, OrgKind


@dataclass
class Lexicon:
    org_of: dict[str, int] = field(default_factory=dict)  # lower-cased alias -> organisation id
    ours: set[int] = field(default_factory=set)
    pattern: re.Pattern[str] | None = None

    def find(self, *texts: str) -> set[int]:
        if self.pattern is None:
            return set()
        found: set[int] = set()
        for text in texts:
            if text:
                found.update(self.org_of[m.lower()] for m in self.pattern.findall(text))
        return found


def load_lexicon() -> Lexicon:
    from convenor.listening.models import BrandAlias

    lex = Lexicon()
    orgs = Organization.objects.filter(kind__in=[OrgKind.OURS, OrgKind.COMPETITOR]).values_list("pk", "name", "kind")
    for pk, name, kind in orgs:
        lex.org_of.setdefault(name.strip().lower(), pk)
        if kind == OrgKind.OURS:
            lex.ours.add(pk)
    for alias, pk in BrandAlias.objects.filter(organization__kind__in=[OrgKind.OURS, OrgKind.COMPETITOR]).values_list(
        "alias", "organization_id"
    ):
        lex.org_of.setdefault(alias.strip().lower(), pk)
    lex.org_of = {k: v for k, v in lex.org_of.items() if k}
    if lex.org_of:
        alternatives = "|".join(re.escape(a) for a in sorted(lex.org_of, key=len, reverse=True))
        lex.pattern = _compile(alternatives)
    return lex


@lru_cache(maxsize=8)
def _compile(alternatives: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@#])({alternatives})(?!\w)", re.IGNORECASE)
