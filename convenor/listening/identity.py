"""Who said it: matching outside authors to members, in batches.

In order: the author's identity in this source (seen before), their email (a member's
primary email or an email identity), their handle in this source, their name at the
organisation their email domain belongs to. Anyone left becomes an observed member
(``observed=True``, on the map but not a member yet) with an identity in the source.
When a new observed person has the name of an existing member whose organisation differs
or is unknown, the pair goes to the merge-suggestion list for a person to decide.

One dict per run remembers every author resolved, and each batch costs a handful of
queries whatever its size: never a query per record.
"""

from __future__ import annotations

from collections import defaultdict

from convenor.listening.importers.base import Author, fit_id
from convenor.people.models import (
    Affiliation,
    Domain,
    Identity,
    Member,
    MergeReason,
    MergeSuggestion,
    OrgKind,
    Role,
)
from convenor.people.services import EMAIL_SOURCE

ROLE_FOR_ORG = {
    OrgKind.OURS: Role.EMPLOYEE,
    OrgKind.CUSTOMER: Role.CUSTOMER,
    OrgKind.PROSPECT: Role.PROSPECT,
    OrgKind.SUPPLIER: Role.SUPPLIER,
    OrgKind.PARTNER: Role.PARTNER,
    OrgKind.COMPETITOR: Role.COMPETITOR_CONTACT,
}
# A name shared by more members than this is a common name, not a likely duplicate.
MAX_NAMESAKES = 12


def _role(org: tuple[int, str] | None) -> str:
    return ROLE_FOR_ORG.get(OrgKind(org[1]), Role.OTHER) if org is not None else Role.OTHER


class Resolver:
    def __init__(self, *, source_key: str, source_name: str) -> None:
        self.source_key = source_key
        self.source_name = source_name
        self.members: dict[str, int] = {}
        self.people_created = 0
        self.suggestions = 0
        self._domains: dict[str, tuple[int, str]] | None = None

    def _org_of(self, email: str) -> tuple[int, str] | None:
        if self._domains is None:
            self._domains = {
                d: (o, k) for d, o, k in Domain.objects.values_list("domain", "organization_id", "organization__kind")
            }
        domain = email.rsplit("@", 1)[-1] if "@" in email else ""
        while domain:
            if domain in self._domains:
                return self._domains[domain]
            domain = domain.partition(".")[2] if domain.count(".") > 1 else ""
        return None

    def member_id(self, author: Author) -> int:
        return self.members[author.key]

    def resolve(self, authors: dict[str, Author]) -> None:
        """Make sure every author in `authors` (by key) has a member id. Call inside the
        batch's transaction, so the members and identities it creates commit with it."""
        todo = {k: a for k, a in authors.items() if k not in self.members}
        if not todo:
            return
        matched: dict[str, int] = {}
        # 1. Seen before in this source.
        for ext, mid in Identity.objects.filter(source=self.source_key, external_id__in=list(todo)).values_list(
            "external_id", "member_id"
        ):
            self.members[ext] = mid
            todo.pop(ext, None)
        # 2. By email.
        by_email: dict[str, list[str]] = defaultdict(list)
        for k, a in todo.items():
            if a.email:
                by_email[a.email].append(k)
        if by_email:
            found: dict[str, int] = {
                e: pk for e, pk in Member.objects.filter(email__in=list(by_email)).values_list("email", "pk") if e
            }
            for email, mid in Identity.objects.filter(source=EMAIL_SOURCE, external_id__in=list(by_email)).values_list(
                "external_id", "member_id"
            ):
                found.setdefault(email, mid)
            for email, mid in found.items():
                for k in by_email.pop(email, []):
                    matched[k] = mid
        # 3. By handle in this source.
        by_handle: dict[str, list[str]] = defaultdict(list)
        for k, a in todo.items():
            if a.handle and k not in matched:
                by_handle[a.handle.lower()].append(k)
        if by_handle:
            spellings = set(by_handle) | {todo[k].handle for keys in by_handle.values() for k in keys}
            handles = Identity.objects.filter(source=self.source_key, handle__in=spellings)
            for handle, mid in handles.values_list("handle", "member_id"):
                for k in by_handle.pop(handle.lower(), []):
                    matched[k] = mid
        # 4. By name at the organisation of the email's domain; namesakes elsewhere are uncertain.
        rest = {k: a for k, a in todo.items() if k not in matched}
        names = {a.name for a in rest.values() if a.name}
        namesakes: dict[str, list[int]] = defaultdict(list)
        orgs_of: dict[int, set[int]] = defaultdict(set)
        if names:
            for mid, name in Member.objects.filter(name__in=names).values_list("pk", "name"):
                namesakes[name].append(mid)
            ids = [m for ms in namesakes.values() for m in ms]
            for mid, oid in Affiliation.objects.filter(member_id__in=ids, ended_on__isnull=True).values_list(
                "member_id", "organization_id"
            ):
                orgs_of[mid].add(oid)
        uncertain: dict[str, list[int]] = {}
        for k, a in rest.items():
            same = namesakes.get(a.name, [])
            if not same:
                continue
            org = self._org_of(a.email)
            at_org = [m for m in same if org is not None and org[0] in orgs_of[m]]
            if len(at_org) == 1:
                matched[k] = at_org[0]
            elif len(same) <= MAX_NAMESAKES:
                uncertain[k] = same
        # 5. Everyone else becomes an observed person.
        self._create_observed({k: a for k, a in rest.items() if k not in matched}, uncertain)
        # Remember the matches as identities in this source, so the next run finds them at step 1.
        Identity.objects.bulk_create(
            [
                Identity(
                    member_id=mid,
                    source=self.source_key,
                    external_id=fit_id(k),
                    handle=todo[k].handle[:255],
                    email=todo[k].email[:254],
                    display_name=todo[k].name[:200],
                )
                for k, mid in matched.items()
            ],
            ignore_conflicts=True,
        )
        self.members.update(matched)

    def _create_observed(self, authors: dict[str, Author], uncertain: dict[str, list[int]]) -> None:
        if not authors:
            return
        # Authors sharing an email are one person.
        first_of: dict[str, str] = {}
        people: dict[str, Author] = {}
        for k, a in authors.items():
            owner = first_of.setdefault(a.email, k) if a.email else k
            if owner == k:
                people[k] = a
        orgs = {k: self._org_of(a.email) for k, a in people.items()}
        rows = [
            Member(
                name=(a.name or a.handle or a.key)[:200],
                email=a.email or None,
                role=_role(orgs[k]),
                observed=True,
                listed=False,
                consent_to_contact=False,
            )
            for k, a in people.items()
        ]
        created = Member.objects.bulk_create(rows)
        ids = {k: m.pk for k, m in zip(people, created, strict=True)}
        for k, a in authors.items():
            ids.setdefault(k, ids[first_of[a.email]] if a.email else ids[k])
        self.people_created += len(created)
        Affiliation.objects.bulk_create(
            [Affiliation(member_id=ids[k], organization_id=org[0]) for k, org in orgs.items() if org is not None]
        )
        Identity.objects.bulk_create(
            [
                Identity(
                    member_id=ids[k],
                    source=self.source_key,
                    external_id=fit_id(k),
                    handle=a.handle[:255],
                    email=a.email[:254],
                    display_name=a.name[:200],
                )
                for k, a in authors.items()
            ],
            ignore_conflicts=True,
        )
        suggestions = []
        for k, others in uncertain.items():
            if k not in ids:
                continue
            org = orgs.get(k)
            where = "organisation unknown" if org is None else "a different organisation"
            for other in others:
                low, high = sorted((ids[k], other))
                suggestions.append(
                    MergeSuggestion(
                        member_a_id=low,
                        member_b_id=high,
                        reason=MergeReason.SAME_NAME_ORG,
                        detail=f"same name, seen in {self.source_name} ({where})"[:300],
                    )
                )
        if suggestions:
            MergeSuggestion.objects.bulk_create(suggestions, ignore_conflicts=True)
            self.suggestions += len(suggestions)
        self.members.update(ids)
