"""Imports of the old contact database: members and relationships from CSV.

Parsing is pure (``parse_members``/``parse_relationships`` turn bytes into typed rows
and a list of problems with line numbers); importing validates everything first and
then writes in one transaction, so a file with one bad row writes nothing. Re-running
the same file changes nothing: members are matched by email, organisations by name,
relationships by their two ends and kind. Every run, good or bad, is recorded in the
audit log (``convenor.import.members`` / ``convenor.import.relationships``).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from convenor.core.audit import audit_log
from convenor.core.csvtext import unclosed_quote
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import User
from convenor.people.models import (
    SYMMETRIC_KINDS,
    Affiliation,
    Identity,
    Member,
    Organization,
    OrgKind,
    Relationship,
    RelationshipKind,
    Role,
)
from convenor.people.services import (
    EMAIL_SOURCE,
    handles_for,
    interests_resolve,
    our_company,
    relationship_create,
    relationship_find,
)

MEMBER_COLUMNS = ("email", "name", "role", "organization", "title", "interests")
RELATIONSHIP_COLUMNS = ("source", "target", "kind", "weight")
MAX_REPORTED = 50  # problems listed in one error message; the count says how many more

# The kind an organisation is given when a member row creates it, by the member's role.
ORG_KIND_FOR_ROLE = {
    Role.EMPLOYEE: OrgKind.OURS,
    Role.CUSTOMER: OrgKind.CUSTOMER,
    Role.SUPPLIER: OrgKind.SUPPLIER,
    Role.PARTNER: OrgKind.PARTNER,
    Role.PROSPECT: OrgKind.PROSPECT,
    Role.COMPETITOR_CONTACT: OrgKind.COMPETITOR,
    Role.OTHER: OrgKind.OTHER,
}


@dataclass
class MemberRow:
    line: int
    email: str
    name: str
    role: str
    organization: str
    title: str
    interests: list[str]


@dataclass
class RelationshipRow:
    line: int
    source: str
    target: str
    kind: str
    weight: float


@dataclass
class ImportResult:
    kind: str
    filename: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    organizations_created: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [
            f"Imported {self.kind} from {self.filename}: {self.rows} row(s), "
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        ]
        if self.organizations_created:
            parts.append(f"{self.organizations_created} organisation(s) created")
        if self.ignored_columns:
            parts.append(f"ignored column(s): {', '.join(self.ignored_columns)}")
        return "; ".join(parts) + f" ({self.seconds:.2f}s)."


# --- parsing (pure) -------------------------------------------------------------------------


def _choice(value: str, choices: type[Role] | type[RelationshipKind]) -> str | None:
    """Accept a value or its label in any case, with spaces, hyphens or underscores."""
    key = value.strip().lower().replace("-", "_").replace(" ", "_").replace("'", "")
    for c in choices:
        if key in (c.value, c.label.lower().replace(" ", "_").replace("'", "")):
            return str(c.value)
    return None


def _read_csv(data: bytes, required: tuple[str, ...]) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Rows as (line number, {column: value}) and the columns that were ignored.

    Raises ApplicationError(BAD_FILE) when the file is too large, not UTF-8, not CSV,
    or lacks a required column.
    """
    if len(data) > settings.MAX_UPLOAD_BYTES:
        raise ApplicationError(
            ErrorCode.TOO_LARGE,
            f"The file is {len(data):,} bytes; the limit is {settings.MAX_UPLOAD_BYTES:,}",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ApplicationError(
            ErrorCode.BAD_FILE, f"line {line}: the file is not UTF-8 text (byte {exc.start})"
        ) from None
    if not text.strip():
        raise ApplicationError(ErrorCode.BAD_FILE, "The file is empty")
    found = unclosed_quote(text)
    if found is not None:
        opened, ended = found
        runs_on = "the end of the file" if ended is None else f"line {text.count(chr(10), 0, ended) + 1}"
        raise ApplicationError(
            ErrorCode.BAD_FILE,
            f"line {text.count(chr(10), 0, opened) + 1}: a quote opens a field and is never closed, so everything"
            f' up to {runs_on} would be read as that one field (a quote inside a quoted field is written twice: "")',
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
        missing = [c for c in required if c not in header]
        if missing:
            raise ApplicationError(
                ErrorCode.BAD_FILE,
                f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(required)}",
            )
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise ApplicationError(ErrorCode.BAD_FILE, f"line 1: repeated column(s) {', '.join(dupes)}")
        rows: list[tuple[int, dict[str, str]]] = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # blank lines are not rows
            if len(values) != len(header):
                raise ApplicationError(
                    ErrorCode.BAD_FILE,
                    f"line {reader.line_num}: {len(values)} field(s), the header has {len(header)}",
                )
            rows.append((reader.line_num, dict(zip(header, (v.strip() for v in values), strict=True))))
    except csv.Error as exc:
        raise ApplicationError(ErrorCode.BAD_FILE, f"line {reader.line_num}: not valid CSV ({exc})") from None
    return rows, [h for h in header if h not in required]


def _fail_if(problems: list[str], filename: str) -> None:
    if not problems:
        return
    shown = problems[:MAX_REPORTED]
    more = f"\n… and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
    raise ApplicationError(
        ErrorCode.BAD_FILE,
        f"{filename}: {len(problems)} problem(s); nothing was imported:\n" + "\n".join(shown) + more,
        fields={"file": problems[:MAX_REPORTED]},
    )


def parse_members(data: bytes, filename: str = "file") -> tuple[list[MemberRow], list[str], list[str]]:
    """Parse a members CSV. Returns (rows, problems, ignored columns); pure, writes nothing."""
    raw, ignored = _read_csv(data, MEMBER_COLUMNS)
    rows: list[MemberRow] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for line, r in raw:
        email = r["email"].lower()
        role = _choice(r["role"], Role) if r["role"] else Role.OTHER
        here: list[str] = []
        if not email:
            here.append("email: required")
        else:
            try:
                validate_email(email)
            except ValidationError:
                here.append(f"email: {r['email']!r} is not a valid email address")
        if email and email in first_line:
            here.append(f"email: {email} is also on line {first_line[email]}")
        if not r["name"]:
            here.append("name: required")
        elif len(r["name"]) > 200:
            here.append("name: longer than 200 characters")
        if role is None:
            here.append(f"role: {r['role']!r} is not one of {', '.join(c.value for c in Role)}")
        if len(r["organization"]) > 200:
            here.append("organization: longer than 200 characters")
        if len(r["title"]) > 200:
            here.append("title: longer than 200 characters")
        interests = [i.strip() for i in r["interests"].split(";") if i.strip()]
        if any(not slugify(i) for i in interests):
            here.append("interests: each interest needs a letter or digit")
        if here:
            problems.extend(f"line {line}: {p}" for p in here)
            continue
        first_line.setdefault(email, line)
        assert role is not None
        rows.append(MemberRow(line, email, " ".join(r["name"].split()), role, r["organization"], r["title"], interests))
    return rows, problems, ignored


def parse_relationships(data: bytes, filename: str = "file") -> tuple[list[RelationshipRow], list[str], list[str]]:
    """Parse a relationships CSV. Returns (rows, problems, ignored columns); pure, writes nothing."""
    raw, ignored = _read_csv(data, RELATIONSHIP_COLUMNS)
    rows: list[RelationshipRow] = []
    problems: list[str] = []
    for line, r in raw:
        here: list[str] = []
        kind = _choice(r["kind"], RelationshipKind)
        if kind is None:
            here.append(f"kind: {r['kind']!r} is not one of {', '.join(c.value for c in RelationshipKind)}")
        for col in ("source", "target"):
            if not r[col]:
                here.append(f"{col}: required (a member's email or an organisation's name)")
        weight = 1.0
        if r["weight"]:
            try:
                weight = float(r["weight"])
            except ValueError:
                here.append(f"weight: {r['weight']!r} is not a number")
            else:
                if not (0 < weight <= 100):
                    here.append(f"weight: {r['weight']} is not above 0 and at most 100")
        if r["source"] and r["source"].strip().lower() == r["target"].strip().lower():
            here.append("target: the same as the source")
        if here:
            problems.extend(f"line {line}: {p}" for p in here)
            continue
        assert kind is not None
        rows.append(RelationshipRow(line, r["source"], r["target"], kind, weight))
    return rows, problems, ignored


# --- importing ------------------------------------------------------------------------------


def _record_run(kind: str, filename: str, actor: User | None, result: ImportResult | None, error: str = "") -> None:
    audit_log(
        actor=actor,
        action=f"convenor.import.{kind}",
        summary=f"{filename}: " + (error.splitlines()[0] if error else result.summary() if result else ""),
        data={"file": filename, "error": error[:4000], **(vars(result) if result else {})},
    )


def _run(kind: str, filename: str, actor: User | None, body: Callable[[], ImportResult]) -> ImportResult:
    """Run an import body; record the run whether it worked or not, then re-raise errors."""
    started = time.monotonic()
    try:
        result = body()
    except ApplicationError as exc:
        _record_run(kind, filename, actor, None, error=exc.message)
        raise
    result.seconds = time.monotonic() - started
    _record_run(kind, filename, actor, result)
    return result


def _organizations_by_name(names: set[str], role_of: dict[str, str], result: ImportResult) -> dict[str, Organization]:
    """Organisations by lower-cased name, created when missing (employees' go to our company)."""
    keys = {n.strip().lower(): n.strip() for n in names if n.strip()}
    found = {o.name_key: o for o in Organization.objects.filter(name_key__in=keys)}
    for key, name in keys.items():
        if key in found:
            continue
        kind = ORG_KIND_FOR_ROLE[Role(role_of[key])]
        if kind == OrgKind.OURS:
            found[key] = our_company()
            continue
        org = Organization(name=name, kind=kind)
        org.save()
        found[key] = org
        result.organizations_created += 1
    return found


def import_members_csv(fh: IO[bytes], *, filename: str = "members.csv", actor: User | None = None) -> ImportResult:
    """Import members (columns email,name,role,organization,title,interests; interests split by ';').

    Members are matched by email (primary or an email identity) and updated; new ones
    created; a current affiliation is added when the organisation is new for them.
    Raises ApplicationError(BAD_FILE) listing every bad row by line number, writing nothing.
    """
    data = fh.read(settings.MAX_UPLOAD_BYTES + 1)

    def body() -> ImportResult:
        rows, problems, ignored = parse_members(data, filename)
        _fail_if(problems, filename)
        result = ImportResult(kind="members", filename=filename, rows=len(rows), ignored_columns=ignored)
        emails = [r.email for r in rows]
        with transaction.atomic():
            existing = {m.email: m for m in Member.objects.filter(email__in=emails)}
            for ident in Identity.objects.filter(source=EMAIL_SOURCE, external_id__in=emails).select_related("member"):
                existing.setdefault(ident.external_id, ident.member)
            role_of = {r.organization.strip().lower(): r.role for r in rows if r.organization.strip()}
            orgs = _organizations_by_name({r.organization for r in rows}, role_of, result)
            interests = {i.slug: i for i in interests_resolve([i for r in rows for i in r.interests])}
            now = timezone.now()
            to_create: list[Member] = []
            to_update: list[Member] = []
            for r in rows:
                m = existing.get(r.email)
                if m is None:
                    m = Member(name=r.name, email=r.email, role=r.role, title=r.title, listed=r.role == Role.EMPLOYEE)
                    to_create.append(m)
                    existing[r.email] = m
                elif (m.name, m.role, m.title) != (r.name, r.role, r.title or m.title):
                    m.name, m.role, m.title, m.updated_at = r.name, r.role, r.title or m.title, now
                    to_update.append(m)
            for m, handle in zip(to_create, handles_for([m.name for m in to_create]), strict=True):
                m.handle = handle
            Member.objects.bulk_create(to_create, batch_size=1000)
            if to_create and to_create[0].pk is None:
                # Backends that do not return ids from bulk inserts: read them back.
                ids = dict(Member.objects.filter(email__in=[m.email for m in to_create]).values_list("email", "pk"))
                for m in to_create:
                    m.pk = ids[m.email]
            Member.objects.bulk_update(to_update, ["name", "role", "title", "updated_at"], batch_size=1000)
            result.created, result.updated = len(to_create), len(to_update)
            result.unchanged = len(rows) - result.created - result.updated

            member_ids = [existing[r.email].pk for r in rows]
            current = set(
                Affiliation.objects.filter(member_id__in=member_ids, ended_on__isnull=True).values_list(
                    "member_id", "organization_id"
                )
            )
            new_affs: dict[tuple[int, int], Affiliation] = {}
            links: list[tuple[int, int]] = []
            for r in rows:
                m = existing[r.email]
                org = orgs.get(r.organization.strip().lower())
                if org is not None and (m.pk, org.pk) not in current:
                    new_affs.setdefault((m.pk, org.pk), Affiliation(member_id=m.pk, organization=org, title=r.title))
                links.extend((m.pk, interests[slugify(i)[:100]].pk) for i in r.interests)
            Affiliation.objects.bulk_create(list(new_affs.values()), batch_size=1000)
            through = Member.interests.through
            through.objects.bulk_create(
                [through(member_id=m, interest_id=i) for m, i in set(links)],
                ignore_conflicts=True,
                batch_size=1000,
            )
        return result

    return _run("members", filename, actor, body)


def _resolve_ends(rows: list[RelationshipRow]) -> tuple[dict[str, Member | Organization], list[str]]:
    """Each row's ends: an email means a member, anything else an organisation's name."""
    emails = {v.strip().lower() for r in rows for v in (r.source, r.target) if "@" in v}
    names = {v.strip().lower() for r in rows for v in (r.source, r.target) if "@" not in v}
    ends: dict[str, Member | Organization] = {m.email: m for m in Member.objects.filter(email__in=emails) if m.email}
    for ident in Identity.objects.filter(source=EMAIL_SOURCE, external_id__in=emails).select_related("member"):
        ends.setdefault(ident.external_id, ident.member)
    ends.update({o.name_key: o for o in Organization.objects.filter(name_key__in=names)})
    problems: list[str] = []
    for r in rows:
        for col, value in (("source", r.source), ("target", r.target)):
            if value.strip().lower() not in ends:
                what = "member with email" if "@" in value else "organisation called"
                problems.append(f"line {r.line}: {col}: no {what} {value!r}")
    return ends, problems


def import_relationships_csv(
    fh: IO[bytes], *, filename: str = "relationships.csv", actor: User | None = None
) -> ImportResult:
    """Import declared relationships (columns source,target,kind,weight).

    Existing lines get the new weight; a line given twice in one file is an error.
    Raises ApplicationError(BAD_FILE) listing every bad row by line number, writing nothing.
    """
    data = fh.read(settings.MAX_UPLOAD_BYTES + 1)

    def body() -> ImportResult:
        rows, problems, ignored = parse_relationships(data, filename)
        ends, unknown = _resolve_ends(rows)
        problems += unknown
        seen: dict[tuple[str, ...], int] = {}
        for r in rows:
            a, b = r.source.strip().lower(), r.target.strip().lower()
            if a in ends and b in ends and type(ends[a]) is type(ends[b]) and ends[a].pk == ends[b].pk:
                problems.append(f"line {r.line}: target: the same as the source")
            key = (r.kind, *sorted((a, b))) if r.kind in SYMMETRIC_KINDS else (r.kind, a, b)
            if key in seen:
                problems.append(f"line {r.line}: the same relationship as line {seen[key]}")
            seen.setdefault(key, r.line)
        _fail_if(sorted(problems, key=lambda p: int(p.split(":")[0].split()[1])), filename)
        result = ImportResult(kind="relationships", filename=filename, rows=len(rows), ignored_columns=ignored)
        with transaction.atomic():
            for r in rows:
                src, tgt = ends[r.source.strip().lower()], ends[r.target.strip().lower()]
                rel = relationship_find(kind=r.kind, source=src, target=tgt)
                if rel is None:
                    relationship_create(kind=r.kind, source=src, target=tgt, strength=r.weight, actor=actor)
                    result.created += 1
                elif rel.strength != r.weight:
                    Relationship.objects.filter(pk=rel.pk).update(strength=r.weight)
                    result.updated += 1
                else:
                    result.unchanged += 1
        return result

    return _run("relationships", filename, actor, body)
