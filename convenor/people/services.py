"""Writes for people, organisations, affiliations, identities, relationships and merges.

Every function validates first and raises ApplicationError with per-field messages,
then writes inside one transaction, so nothing half-written remains.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from convenor.activity.models import Activity
from convenor.core.audit import audit_log
from convenor.core.errors import ApplicationError, ErrorCode, invalid
from convenor.core.models import StaffRole, User
from convenor.people.models import (
    SYMMETRIC_KINDS,
    Affiliation,
    Domain,
    Identity,
    Interest,
    Member,
    MemberMerge,
    MergeSuggestion,
    MergeSuggestionStatus,
    Organization,
    OrgKind,
    Relationship,
    RelationshipKind,
    Role,
)

EMAIL_SOURCE = "email"
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class FieldErrors:
    """Collects messages per field, then raises them together."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}
        self._duplicates = 0

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def add_duplicate(self, name: str, message: str) -> None:
        """A value that is well formed but already taken (an email, a name)."""
        self.add(name, message)
        self._duplicates += 1

    def raise_if_any(self, message: str = "Some fields are not valid") -> None:
        """Raise VALIDATION, or DUPLICATE when every message is about a value already taken
        (so API clients can tell "fix your input" from "this exists already")."""
        if not self.fields:
            return
        total = sum(len(messages) for messages in self.fields.values())
        if total == self._duplicates:
            first = next(iter(self.fields.values()))[0]
            raise ApplicationError(ErrorCode.DUPLICATE, first, fields=self.fields)
        raise ApplicationError(ErrorCode.VALIDATION, message, fields=self.fields)


def normalize_email(raw: str | None) -> str | None:
    value = (raw or "").strip().lower()
    return value or None


def _check_email(errors: FieldErrors, name: str, value: str | None) -> None:
    if value is None:
        return
    try:
        validate_email(value)
    except ValidationError:
        errors.add(name, f"{value!r} is not a valid email address")


def _check_choice(errors: FieldErrors, name: str, value: str, choices: Any) -> None:
    allowed = [c.value for c in choices]
    if value not in allowed:
        errors.add(name, f"{value!r} is not one of: {', '.join(allowed)}")


def _check_text(errors: FieldErrors, name: str, value: str, *, required: bool, max_length: int) -> None:
    if required and not value.strip():
        errors.add(name, "This field is required")
    elif len(value) > max_length:
        errors.add(name, f"At most {max_length} characters (this has {len(value)})")


# --- organisations -------------------------------------------------------------------------


def normalize_domain(raw: str) -> str:
    value = raw.strip().lower()
    value = re.sub(r"^https?://", "", value).split("/")[0]
    return value.removeprefix("www.")


def _clean_domains(errors: FieldErrors, domains: list[str], org: Organization | None) -> list[str]:
    clean: list[str] = []
    for raw in domains:
        if not raw.strip():
            continue
        d = normalize_domain(raw)
        if not _DOMAIN_RE.match(d):
            errors.add("domains", f"{raw!r} is not a domain name such as acme.com")
            continue
        owner = (
            Domain.objects.filter(domain=d).exclude(organization=org).first()
            if org
            else (Domain.objects.filter(domain=d).select_related("organization").first())
        )
        if owner is not None:
            errors.add_duplicate("domains", f"{d} already belongs to {owner.organization}")
            continue
        if d not in clean:
            clean.append(d)
    return clean


def _check_org_fields(
    errors: FieldErrors,
    *,
    name: str,
    kind: str,
    website: str,
    org: Organization | None,
    industry: str = "",
    demand_weight: float = 1.0,
) -> None:
    _check_text(errors, "name", name, required=True, max_length=200)
    _check_text(errors, "industry", industry, required=False, max_length=100)
    if not 0 <= demand_weight <= 1000:
        errors.add("demand_weight", "The demand weight must be between 0 and 1000")
    _check_choice(errors, "kind", kind, OrgKind)
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            errors.add("website", f"{website!r} is not a web address (https://...)")
    key = name.strip().lower()
    clash = Organization.objects.filter(name_key=key)
    if org is not None:
        clash = clash.exclude(pk=org.pk)
    if key and clash.exists():
        errors.add_duplicate("name", f"An organisation called {name.strip()!r} already exists")
    if kind == OrgKind.OURS:
        ours = Organization.objects.filter(kind=OrgKind.OURS)
        if org is not None:
            ours = ours.exclude(pk=org.pk)
        if ours.exists():
            errors.add("kind", "There is already an organisation marked as our company")


def organization_create(
    *,
    name: str,
    kind: str = OrgKind.OTHER,
    website: str = "",
    description: str = "",
    domains: list[str] | None = None,
    industry: str = "",
    demand_weight: float = 1.0,
    actor: User | None = None,
) -> Organization:
    """Create an organisation. Raises ApplicationError(VALIDATION) with per-field messages."""
    errors = FieldErrors()
    _check_org_fields(
        errors, name=name, kind=kind, website=website, org=None, industry=industry, demand_weight=demand_weight
    )
    clean_domains = _clean_domains(errors, domains or [], None)
    errors.raise_if_any()
    with transaction.atomic():
        org = Organization(
            name=name.strip(),
            kind=kind,
            website=website,
            description=description,
            industry=industry.strip(),
            demand_weight=demand_weight,
        )
        org.save()
        Domain.objects.bulk_create([Domain(organization=org, domain=d) for d in clean_domains])
        audit_log(actor=actor, action="convenor.organization.created", obj=org, summary=org.name)
    return org


def organization_update(
    *,
    organization: Organization,
    actor: User | None = None,
    name: str | None = None,
    kind: str | None = None,
    website: str | None = None,
    description: str | None = None,
    domains: list[str] | None = None,
    industry: str | None = None,
    demand_weight: float | None = None,
) -> Organization:
    """Change the given fields of `organization`; fields left as None stay as they are."""
    new_name = organization.name if name is None else name
    new_kind = organization.kind if kind is None else kind
    new_website = organization.website if website is None else website
    new_industry = organization.industry if industry is None else industry
    new_weight = organization.demand_weight if demand_weight is None else demand_weight
    errors = FieldErrors()
    _check_org_fields(
        errors,
        name=new_name,
        kind=new_kind,
        website=new_website,
        org=organization,
        industry=new_industry,
        demand_weight=new_weight,
    )
    clean_domains = None if domains is None else _clean_domains(errors, domains, organization)
    errors.raise_if_any()
    with transaction.atomic():
        organization.name = new_name.strip()
        organization.kind = new_kind
        organization.website = new_website
        organization.industry = new_industry.strip()
        organization.demand_weight = new_weight
        if description is not None:
            organization.description = description
        organization.updated_at = timezone.now()
        organization.save()
        if clean_domains is not None:
            organization.domains.exclude(domain__in=clean_domains).delete()
            have = set(organization.domains.values_list("domain", flat=True))
            Domain.objects.bulk_create(
                [Domain(organization=organization, domain=d) for d in clean_domains if d not in have]
            )
        audit_log(actor=actor, action="convenor.organization.updated", obj=organization, summary=organization.name)
    return organization


def our_company() -> Organization:
    """Our company's organisation, created on first use from settings.COMPANY_NAME."""
    from django.conf import settings

    org = Organization.objects.filter(kind=OrgKind.OURS).first()
    if org is not None:
        return org
    try:
        with transaction.atomic():
            org = Organization(name=settings.COMPANY_NAME, kind=OrgKind.OURS)
            org.save()
            return org
    except IntegrityError:
        return Organization.objects.get(kind=OrgKind.OURS)


# --- interests -----------------------------------------------------------------------------


def interests_resolve(names: list[str]) -> list[Interest]:
    """The Interest rows for `names`, created as needed; blank names are ignored."""
    wanted: dict[str, str] = {}
    for raw in names:
        name = " ".join(raw.split())[:100]
        slug = slugify(name)[:100]
        if slug and slug not in wanted:
            wanted[slug] = name
    if not wanted:
        return []
    Interest.objects.bulk_create([Interest(name=n, slug=s) for s, n in wanted.items()], ignore_conflicts=True)
    return list(Interest.objects.filter(slug__in=wanted))


# --- members -------------------------------------------------------------------------------

HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,59}$")


def handle_base(name: str) -> str:
    """``"Carla O'Neil"`` → ``"carla-oneil"``: the stem of a member's @handle."""
    base = slugify(name.replace("'", ""))[:50].strip("-_.")
    return base if len(base) >= 2 else f"member{base}"


def handles_for(names: list[str]) -> list[str]:
    """Free, distinct @handles for `names`, in order: each name's stem, or the stem with the
    lowest free number after it. One query for the stems, one per stem already in use."""
    bases = [handle_base(n) for n in names]
    taken = set(Member.objects.filter(handle__in=set(bases)).values_list("handle", flat=True))
    for base in {b for b in bases if b in taken}:
        taken.update(h for h in Member.objects.filter(handle__startswith=base).values_list("handle", flat=True) if h)
    out: list[str] = []
    for base in bases:
        handle, n = base, 2
        while handle in taken:
            handle, n = f"{base}{n}", n + 1
        taken.add(handle)
        out.append(handle)
    return out


def handle_for(name: str) -> str:
    return handles_for([name])[0]


def _check_member_email(errors: FieldErrors, email: str | None, member: Member | None) -> None:
    _check_email(errors, "email", email)
    if email is None or "email" in errors.fields:
        return
    taken = Member.objects.filter(email=email)
    ident = Identity.objects.filter(source=EMAIL_SOURCE, external_id=email)
    if member is not None:
        taken = taken.exclude(pk=member.pk)
        ident = ident.exclude(member=member)
    other = taken.first() or (i.member if (i := ident.select_related("member").first()) else None)
    if other is not None:
        errors.add_duplicate("email", f"{email} already belongs to {other.name} (member {other.pk})")


def member_create(
    *,
    name: str,
    email: str | None = None,
    role: str = Role.OTHER,
    title: str = "",
    bio: str = "",
    location: str = "",
    interests: list[str] | None = None,
    consent_to_contact: bool = True,
    listed: bool | None = None,
    organization: Organization | None = None,
    actor: User | None = None,
) -> Member:
    """Create a member, optionally with a current affiliation at `organization`.

    Employees are listed in the directory unless told otherwise; others are not, so
    customers' names stay private to staff and colleagues until they choose to be listed.
    Raises ApplicationError(VALIDATION) with per-field messages.
    """
    email = normalize_email(email)
    errors = FieldErrors()
    _check_text(errors, "name", name, required=True, max_length=200)
    _check_text(errors, "title", title, required=False, max_length=200)
    _check_choice(errors, "role", role, Role)
    _check_member_email(errors, email, None)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            member = Member.objects.create(
                name=name.strip(),
                handle=handle_for(name),
                email=email,
                role=role,
                title=title.strip(),
                bio=bio,
                location=location.strip(),
                consent_to_contact=consent_to_contact,
                listed=(role == Role.EMPLOYEE) if listed is None else listed,
            )
            if interests:
                member.interests.set(interests_resolve(interests))
            if organization is not None:
                Affiliation.objects.create(member=member, organization=organization, title=title.strip())
            audit_log(actor=actor, action="convenor.member.created", obj=member, summary=member.name)
    except IntegrityError:
        # Two requests created the same email (or handle) at the same moment.
        raise ApplicationError(
            ErrorCode.DUPLICATE, f"{email} was just added by someone else", fields={"email": ["already exists"]}
        ) from None
    return member


def member_update(
    *,
    member: Member,
    actor: User | None = None,
    name: str | None = None,
    email: str | None = None,
    handle: str | None = None,
    role: str | None = None,
    title: str | None = None,
    bio: str | None = None,
    location: str | None = None,
    interests: list[str] | None = None,
    consent_to_contact: bool | None = None,
    listed: bool | None = None,
) -> Member:
    """Change the given fields of `member`; None leaves a field as it is.

    Pass ``email=""`` to remove the primary email.
    """
    errors = FieldErrors()
    if name is not None:
        _check_text(errors, "name", name, required=True, max_length=200)
    if title is not None:
        _check_text(errors, "title", title, required=False, max_length=200)
    if role is not None:
        _check_choice(errors, "role", role, Role)
    new_email = member.email if email is None else normalize_email(email)
    if email is not None:
        _check_member_email(errors, new_email, member)
    if handle is not None:
        handle = handle.strip().lower().lstrip("@")
        if not HANDLE_RE.match(handle):
            errors.add("handle", "2 to 60 lower-case letters, digits, dots, dashes or underscores")
        elif Member.objects.filter(handle=handle).exclude(pk=member.pk).exists():
            errors.add("handle", f"@{handle} is taken")
    errors.raise_if_any()
    with transaction.atomic():
        changed: list[str] = []
        for field, value in (
            ("name", name.strip() if name is not None else None),
            ("handle", handle),
            ("role", role),
            ("title", title.strip() if title is not None else None),
            ("bio", bio),
            ("location", location.strip() if location is not None else None),
            ("consent_to_contact", consent_to_contact),
            ("listed", listed),
        ):
            if value is not None and getattr(member, field) != value:
                setattr(member, field, value)
                changed.append(field)
        if email is not None and member.email != new_email:
            member.email = new_email
            changed.append("email")
        member.updated_at = timezone.now()
        member.save()
        if interests is not None:
            member.interests.set(interests_resolve(interests))
            changed.append("interests")
        audit_log(
            actor=actor,
            action="convenor.member.updated",
            obj=member,
            summary=member.name,
            data={"changed": changed},
        )
    return member


# --- affiliations --------------------------------------------------------------------------


def affiliation_add(
    *,
    member: Member,
    organization: Organization,
    title: str = "",
    started_on: date | None = None,
    ended_on: date | None = None,
    actor: User | None = None,
) -> Affiliation:
    """Add a place at an organisation. Raises VALIDATION for bad dates or a second current place there."""
    errors = FieldErrors()
    _check_text(errors, "title", title, required=False, max_length=200)
    if started_on and ended_on and ended_on < started_on:
        errors.add("ended_on", "The end date is before the start date")
    if (
        ended_on is None
        and Affiliation.objects.filter(member=member, organization=organization, ended_on__isnull=True).exists()
    ):
        errors.add("organization", f"{member.name} already has a current place at {organization.name}")
    errors.raise_if_any()
    with transaction.atomic():
        aff = Affiliation.objects.create(
            member=member,
            organization=organization,
            title=title.strip(),
            started_on=started_on,
            ended_on=ended_on,
        )
        audit_log(
            actor=actor,
            action="convenor.affiliation.added",
            obj=member,
            summary=f"{member.name} at {organization.name}",
        )
    return aff


def affiliation_end(
    *, affiliation: Affiliation, ended_on: date | None = None, actor: User | None = None
) -> Affiliation:
    """Close an affiliation (the person left); the history stays."""
    end = ended_on or timezone.localdate()
    if affiliation.started_on and end < affiliation.started_on:
        raise invalid("The end date is before the start date", ended_on="before the start date")
    affiliation.ended_on = end
    affiliation.save(update_fields=["ended_on"])
    audit_log(actor=actor, action="convenor.affiliation.ended", obj=affiliation.member, summary=str(affiliation))
    return affiliation


# --- identities ----------------------------------------------------------------------------


def identity_add(
    *,
    member: Member,
    source: str,
    external_id: str,
    handle: str = "",
    email: str = "",
    display_name: str = "",
    actor: User | None = None,
) -> Identity:
    """Attach an identity in `source` to `member`. Raises DUPLICATE if another member holds it."""
    source = source.strip().lower()
    external_id = external_id.strip()
    if source == EMAIL_SOURCE:
        external_id = external_id.lower()
    errors = FieldErrors()
    _check_text(errors, "source", source, required=True, max_length=100)
    _check_text(errors, "external_id", external_id, required=True, max_length=255)
    clean_email = normalize_email(email)
    _check_email(errors, "email", clean_email)
    if source == EMAIL_SOURCE:
        _check_email(errors, "external_id", external_id or None)
    errors.raise_if_any()
    existing = Identity.objects.filter(source=source, external_id=external_id).select_related("member").first()
    if existing is not None:
        if existing.member_id == member.pk:
            return existing
        raise ApplicationError(
            ErrorCode.DUPLICATE,
            f"{source}:{external_id} already belongs to {existing.member.name}",
            fields={"external_id": [f"already belongs to member {existing.member_id}"]},
        )
    if source == EMAIL_SOURCE and Member.objects.filter(email=external_id).exclude(pk=member.pk).exists():
        raise ApplicationError(
            ErrorCode.DUPLICATE,
            f"{external_id} is another member's primary email",
            fields={"external_id": ["is another member's primary email"]},
        )
    try:
        with transaction.atomic():
            ident = Identity.objects.create(
                member=member,
                source=source,
                external_id=external_id,
                handle=handle.strip(),
                email=clean_email or "",
                display_name=display_name.strip(),
            )
    except IntegrityError:
        raise ApplicationError(ErrorCode.DUPLICATE, f"{source}:{external_id} was just added by someone else") from None
    audit_log(actor=actor, action="convenor.identity.added", obj=member, summary=str(ident))
    return ident


# --- relationships -------------------------------------------------------------------------

End = Member | Organization


def _ends(kind: str, source: End, target: End) -> tuple[End, End]:
    """Symmetric kinds are stored with the smaller (type, id) first, so each pair is one row."""
    if kind in SYMMETRIC_KINDS:
        key_s = (isinstance(source, Organization), source.pk)
        key_t = (isinstance(target, Organization), target.pk)
        if key_t < key_s:
            return target, source
    return source, target


def _end_filter(prefix: str, end: End) -> Q:
    if isinstance(end, Member):
        return Q(**{f"{prefix}_member": end, f"{prefix}_org__isnull": True})
    return Q(**{f"{prefix}_org": end, f"{prefix}_member__isnull": True})


def relationship_find(*, kind: str, source: End, target: End) -> Relationship | None:
    source, target = _ends(kind, source, target)
    return Relationship.objects.filter(_end_filter("source", source), _end_filter("target", target), kind=kind).first()


def _check_relationship(
    errors: FieldErrors,
    *,
    kind: str,
    source: End,
    target: End,
    strength: float,
    started_on: date | None,
    ended_on: date | None,
) -> None:
    _check_choice(errors, "kind", kind, RelationshipKind)
    if type(source) is type(target) and source.pk == target.pk:
        errors.add("target", "A relationship needs two different ends")
    if not (0 < strength <= 100):
        errors.add("strength", "Strength must be above 0 and at most 100")
    if started_on and ended_on and ended_on < started_on:
        errors.add("ended_on", "The end date is before the start date")


def relationship_create(
    *,
    kind: str,
    source: End,
    target: End,
    strength: float = 1.0,
    evidence: str = "",
    started_on: date | None = None,
    ended_on: date | None = None,
    actor: User | None = None,
) -> Relationship:
    """Declare a typed line. Raises VALIDATION for bad input, DUPLICATE if the line exists."""
    errors = FieldErrors()
    _check_relationship(
        errors,
        kind=kind,
        source=source,
        target=target,
        strength=strength,
        started_on=started_on,
        ended_on=ended_on,
    )
    errors.raise_if_any()
    if relationship_find(kind=kind, source=source, target=target) is not None:
        raise ApplicationError(
            ErrorCode.DUPLICATE,
            f"{source} already {RelationshipKind(kind).label.lower()} {target}",
            fields={"target": ["this relationship already exists"]},
        )
    src, tgt = _ends(kind, source, target)
    try:
        with transaction.atomic():
            rel = Relationship.objects.create(
                kind=kind,
                source_member=src if isinstance(src, Member) else None,
                source_org=src if isinstance(src, Organization) else None,
                target_member=tgt if isinstance(tgt, Member) else None,
                target_org=tgt if isinstance(tgt, Organization) else None,
                directed=kind not in SYMMETRIC_KINDS,
                strength=strength,
                evidence=evidence,
                started_on=started_on,
                ended_on=ended_on,
            )
            audit_log(actor=actor, action="convenor.relationship.created", obj=rel, summary=str(rel))
    except IntegrityError:
        raise ApplicationError(ErrorCode.DUPLICATE, "This relationship was just added by someone else") from None
    return rel


def relationship_update(
    *,
    relationship: Relationship,
    strength: float | None = None,
    evidence: str | None = None,
    started_on: date | None = None,
    ended_on: date | None = None,
    actor: User | None = None,
) -> Relationship:
    errors = FieldErrors()
    _check_relationship(
        errors,
        kind=relationship.kind,
        source=relationship.source,
        target=relationship.target,
        strength=relationship.strength if strength is None else strength,
        started_on=started_on or relationship.started_on,
        ended_on=ended_on or relationship.ended_on,
    )
    errors.raise_if_any()
    if strength is not None:
        relationship.strength = strength
    if evidence is not None:
        relationship.evidence = evidence
    if started_on is not None:
        relationship.started_on = started_on
    if ended_on is not None:
        relationship.ended_on = ended_on
    relationship.save()
    audit_log(actor=actor, action="convenor.relationship.updated", obj=relationship, summary=str(relationship))
    return relationship


def relationship_delete(*, relationship: Relationship, actor: User | None = None) -> None:
    audit_log(actor=actor, action="convenor.relationship.deleted", obj=relationship, summary=str(relationship))
    relationship.delete()


# --- accounts ------------------------------------------------------------------------------


def account_create(
    *, email: str, password: str, name: str = "", staff_role: str = StaffRole.NONE, actor: User | None = None
) -> User:
    """Create a login. Staff get an employee member at our company; others are linked to
    the member with the same email when there is one."""
    clean = normalize_email(email)
    errors = FieldErrors()
    _check_email(errors, "email", clean)
    if clean is None:
        errors.add("email", "This field is required")
    _check_choice(errors, "staff_role", staff_role, StaffRole)
    if len(password) < 8:
        errors.add("password", "Use at least 8 characters")
    if clean and User.objects.filter(email=clean).exists():
        errors.add_duplicate("email", f"There is already an account for {clean}")
    errors.raise_if_any()
    assert clean is not None
    with transaction.atomic():
        user = User.objects.create_user(
            email=clean,
            password=password,
            name=name,
            staff_role=staff_role,
            is_superuser=staff_role == StaffRole.ADMIN,
        )
        member = Member.objects.filter(email=clean).first()
        if member is None:
            member = member_create(
                name=name or clean.split("@")[0],
                email=clean,
                role=Role.EMPLOYEE if staff_role else Role.OTHER,
                organization=our_company() if staff_role else None,
                actor=actor,
            )
        if member.user_id is None:
            member.user = user
            member.save(update_fields=["user"])
        audit_log(actor=actor, action="convenor.account.created", obj=user, summary=clean)
    return user


# --- merging -------------------------------------------------------------------------------


def _move_relationships(survivor: Member, merged: Member) -> int:
    """Point the merged member's lines at the survivor, dropping lines that would
    duplicate one the survivor has, or join the survivor to itself."""
    moved = 0
    rels = Relationship.objects.filter(Q(source_member=merged) | Q(target_member=merged)).select_related(
        "source_member", "source_org", "target_member", "target_org"
    )
    for rel in rels:
        src: End = survivor if rel.source_member_id == merged.pk else rel.source
        tgt: End = survivor if rel.target_member_id == merged.pk else rel.target
        if type(src) is type(tgt) and src.pk == tgt.pk:
            rel.delete()
            continue
        twin = relationship_find(kind=rel.kind, source=src, target=tgt)
        if twin is not None and twin.pk != rel.pk:
            if rel.strength > twin.strength:
                twin.strength = rel.strength
                twin.save(update_fields=["strength"])
            rel.delete()
            continue
        src, tgt = _ends(rel.kind, src, tgt)
        rel.source_member = src if isinstance(src, Member) else None
        rel.source_org = src if isinstance(src, Organization) else None
        rel.target_member = tgt if isinstance(tgt, Member) else None
        rel.target_org = tgt if isinstance(tgt, Organization) else None
        rel.save()
        moved += 1
    return moved


def _move_suggestions(survivor: Member, merged: Member) -> None:
    """Suggestions pairing the merged member with a third person now pair the survivor
    with them. (Those rows themselves go with the merged member, by CASCADE.)"""
    others = MergeSuggestion.objects.filter(Q(member_a=merged) | Q(member_b=merged)).exclude(
        Q(member_a=survivor) | Q(member_b=survivor)
    )
    for sug in others:
        other_id = sug.member_b_id if sug.member_a_id == merged.pk else sug.member_a_id
        a, b = sorted((survivor.pk, other_id))
        MergeSuggestion.objects.get_or_create(
            member_a_id=a,
            member_b_id=b,
            defaults={"reason": sug.reason, "detail": sug.detail, "status": sug.status},
        )


def member_merge(*, survivor: Member, merged: Member, actor: User | None = None) -> MemberMerge:
    """Merge `merged` into `survivor`: identities, affiliations, interests, activities and
    relationships move, the merged row is deleted, and the merge is recorded.

    Raises ApplicationError(MERGE_SELF) when both are the same member, and NOT_FOUND if
    either was merged away by someone else meanwhile.
    """
    if survivor.pk == merged.pk:
        raise ApplicationError(ErrorCode.MERGE_SELF, "A member cannot be merged into itself")
    with transaction.atomic():
        # Lock both rows in id order so two merges of the same pair cannot interleave.
        locked = {
            m.pk: m for m in Member.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk]).order_by("pk")
        }
        if len(locked) != 2:
            raise ApplicationError(ErrorCode.NOT_FOUND, "One of the two members no longer exists (merged already?)")
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        merged_email = merged.email or ""
        moved: dict[str, int] = {}
        moved["identities"] = Identity.objects.filter(member=merged).update(member=survivor)
        if merged.email:
            if survivor.email is None:
                survivor.email, merged.email = merged.email, None
                merged.save(update_fields=["email"])
            else:
                Identity.objects.get_or_create(
                    source=EMAIL_SOURCE,
                    external_id=merged.email,
                    defaults={"member": survivor, "email": merged.email},
                )
        if not survivor.handle and merged.handle:
            survivor.handle, merged.handle = merged.handle, None
            merged.save(update_fields=["handle"])
        # A second *current* place at the same organisation would break the one-current rule.
        current_orgs = Affiliation.objects.filter(member=survivor, ended_on__isnull=True).values("organization")
        Affiliation.objects.filter(member=merged, ended_on__isnull=True, organization__in=current_orgs).delete()
        moved["affiliations"] = Affiliation.objects.filter(member=merged).update(member=survivor)
        survivor.interests.add(*merged.interests.all())
        moved["activities"] = Activity.objects.filter(actor=merged).update(actor=survivor)
        moved["activities"] += Activity.objects.filter(target_member=merged).update(target_member=survivor)
        moved["relationships"] = _move_relationships(survivor, merged)
        if survivor.user_id is None and merged.user_id is not None:
            survivor.user_id, merged.user_id = merged.user_id, None
            merged.save(update_fields=["user"])
        for field in ("title", "bio", "location"):
            if not getattr(survivor, field) and getattr(merged, field):
                setattr(survivor, field, getattr(merged, field))
        survivor.consent_to_contact = survivor.consent_to_contact and merged.consent_to_contact
        survivor.updated_at = timezone.now()
        survivor.save()
        _move_suggestions(survivor, merged)
        record = MemberMerge.objects.create(
            survivor=survivor,
            merged_member_id=merged.pk,
            merged_name=merged.name,
            merged_email=merged_email,
            moved=moved,
            merged_by=actor,
        )
        # Earlier merges into the merged member now belong to the survivor.
        MemberMerge.objects.filter(survivor=merged).update(survivor=survivor)
        merged.delete()
        audit_log(
            actor=actor,
            action="convenor.member.merged",
            obj=survivor,
            summary=f"{record.merged_name} merged into {survivor.name}",
            data={"merged_member_id": record.merged_member_id, **moved},
        )
    return record


def merge_suggestion_decide(
    *, suggestion: MergeSuggestion, merge: bool, survivor: Member | None = None, actor: User | None = None
) -> MergeSuggestion | MemberMerge:
    """Accept (merge the pair, keeping `survivor`, by default the older member) or dismiss."""
    if suggestion.status != MergeSuggestionStatus.OPEN:
        raise ApplicationError(
            ErrorCode.CONFLICT, f"This suggestion was already {suggestion.get_status_display().lower()}"
        )
    if not merge:
        suggestion.status = MergeSuggestionStatus.DISMISSED
        suggestion.decided_at = timezone.now()
        suggestion.decided_by = actor
        suggestion.save()
        audit_log(actor=actor, action="convenor.merge_suggestion.dismissed", obj=suggestion, summary=str(suggestion))
        return suggestion
    keep = survivor or suggestion.member_a
    if keep.pk not in (suggestion.member_a_id, suggestion.member_b_id):
        raise invalid("The member to keep must be one of the pair", survivor="not in this suggestion")
    other = suggestion.member_b if keep.pk == suggestion.member_a_id else suggestion.member_a
    return member_merge(survivor=keep, merged=other, actor=actor)


# --- merge suggestions ---------------------------------------------------------------------

# A name shared by more people than this at one organisation is a common name, not a duplicate.
_MAX_GROUP = 12


def _pairs(groups: dict[object, set[int]]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for ids in groups.values():
        if 1 < len(ids) <= _MAX_GROUP:
            ordered = sorted(ids)
            pairs.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    return pairs


def merge_suggestions_refresh() -> int:
    """Find members who may be one person and add them to the review list; returns how many
    suggestions are new. Pairs already decided are never suggested again.

    Candidates are found by grouping in SQL (only keys held by more than one member come
    back), so the cost follows the number of duplicates, not the size of the community.
    """
    from django.db.models import Count
    from django.db.models.functions import Lower

    found: dict[tuple[int, int], tuple[str, str]] = {}

    # Same email: a member's primary email appearing as another member's identity email.
    by_email: dict[object, set[int]] = {}
    shared = (
        Identity.objects.exclude(email="")
        .values("email")
        .annotate(n=Count("member", distinct=True))
        .filter(n__gt=1)
        .values("email")
    )
    for ident_member, ident_email in Identity.objects.filter(email__in=shared).values_list("member_id", "email"):
        by_email.setdefault(ident_email, set()).add(ident_member)
    matches = list(
        Identity.objects.exclude(email="")
        .filter(email__in=Member.objects.filter(email__isnull=False).values("email"))
        .values_list("member_id", "email")
    )
    owners = dict(Member.objects.filter(email__in={e for _, e in matches}).values_list("email", "pk"))
    for ident_member, email in matches:
        by_email.setdefault(email, set()).update({ident_member, owners[email]})
    for pair in _pairs(by_email):
        found.setdefault(pair, ("same_email", "same email address"))

    # Same handle in the same source.
    handles = (
        Identity.objects.exclude(handle="")
        .annotate(h=Lower("handle"))
        .values("source", "h")
        .annotate(n=Count("member", distinct=True))
        .filter(n__gt=1)
    )
    by_handle: dict[object, set[int]] = {}
    for row in handles:
        for mid in (
            Identity.objects.annotate(h=Lower("handle"))
            .filter(source=row["source"], h=row["h"])
            .values_list("member_id", flat=True)
        ):
            by_handle.setdefault((row["source"], row["h"]), set()).add(mid)
    for pair in _pairs(by_handle):
        found.setdefault(pair, ("same_handle", "same handle in a source"))

    # Same name at the same organisation (current places only).
    names = (
        Affiliation.objects.filter(ended_on__isnull=True)
        .annotate(n_key=Lower("member__name"))
        .values("organization", "n_key")
        .annotate(n=Count("member", distinct=True))
        .filter(n__gt=1)
    )
    by_name: dict[object, set[int]] = {}
    for row in names:
        for mid in (
            Affiliation.objects.filter(ended_on__isnull=True, organization=row["organization"])
            .annotate(n_key=Lower("member__name"))
            .filter(n_key=row["n_key"])
            .values_list("member_id", flat=True)
        ):
            by_name.setdefault((row["organization"], row["n_key"]), set()).add(mid)
    for pair in _pairs(by_name):
        found.setdefault(pair, ("same_name_org", "same name at the same organisation"))

    if not found:
        return 0
    before = MergeSuggestion.objects.count()
    MergeSuggestion.objects.bulk_create(
        [
            MergeSuggestion(member_a_id=a, member_b_id=b, reason=reason, detail=detail)
            for (a, b), (reason, detail) in found.items()
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return MergeSuggestion.objects.count() - before
