"""The server-rendered pages. Views are thin: they parse input with a form, fetch ids
through the permission gate (core/access.py), read through selectors, write through
services, and render. An ApplicationError that a view does not catch becomes a 404, 403
or login redirect in :mod:`convenor.web.errors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from convenor.activity import selectors as activity_selectors
from convenor.core import access
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import User
from convenor.people import selectors, services
from convenor.people.models import Member, Organization, OrgKind, Relationship, Role
from convenor.spaces import selectors as space_selectors
from convenor.web import forms

M = TypeVar("M", bound=Model)

MEMBERS_PER_PAGE = 50
ORGS_PER_PAGE = 50
TIMELINE_PER_PAGE = 25
PEOPLE_PER_PAGE = 50
SUGGESTIONS_PER_PAGE = 25


# --- helpers -------------------------------------------------------------------------------


def _viewer(request: HttpRequest) -> User:
    """The logged-in user; anyone else is sent to the login page (by the error middleware)."""
    return access.require_login(request.user)


def _page(request: HttpRequest, items: QuerySet[M], per_page: int, param: str = "page") -> Page[M]:
    return Paginator(items, per_page).get_page(request.GET.get(param))


def _may_change_member(user: User, member: Member) -> bool:
    try:
        access.member_for_change(user, member.pk)
    except ApplicationError:
        return False
    return True


@dataclass
class EndLink:
    """One end of a relationship as a page shows it: a name, and a link when it has a page."""

    name: str
    url: str
    kind: str  # "member" or the organisation kind's label


@dataclass
class RelRow:
    rel: Relationship
    source: EndLink
    target: EndLink
    label: str


def _end_link(end: Member | Organization) -> EndLink:
    if isinstance(end, Member):
        return EndLink(end.name, reverse("web:member_detail", args=[end.pk]), "Person")
    return EndLink(end.name, reverse("web:org_detail", args=[end.pk]), end.get_kind_display())


def _rel_rows(rels: Iterable[Relationship]) -> list[RelRow]:
    return [RelRow(rel, _end_link(rel.source), _end_link(rel.target), rel.get_kind_display().lower()) for rel in rels]


def _safe_next(request: HttpRequest, default: str) -> str:
    nxt = request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return default


# --- health --------------------------------------------------------------------------------


def healthz(request: HttpRequest) -> HttpResponse:
    """ "ok" when the process serves requests: for load balancers and uptime checks.

    Deliberately touches no database, session or template, so it answers even while the
    database is busy and costs next to nothing (bench/web.py uses it as the baseline).
    """
    return HttpResponse("ok", content_type="text/plain")


# --- home ----------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    by_role = selectors.member_counts_by_role(viewer=me)
    by_kind = selectors.organization_counts_by_kind(viewer=me)
    context = {
        "roles": [(r.value, r.label, by_role.get(r.value, 0)) for r in Role if by_role.get(r.value)],
        "kinds": [(k.value, k.label, by_kind.get(k.value, 0)) for k in OrgKind if by_kind.get(k.value)],
        "member_total": sum(by_role.values()),
        "org_total": sum(by_kind.values()),
        "open_suggestions": (selectors.merge_suggestion_list().count() if access.is_staff(me) else None),
    }
    return render(request, "web/home.html", context)


# --- members -------------------------------------------------------------------------------


def member_list(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    orgs = list(access.visible_organizations(me).order_by("name").values_list("pk", "name"))
    interests = list(selectors.interest_list().values_list("slug", "name"))
    form = forms.MemberFilterForm(request.GET or None, organizations=orgs, interests=interests)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {
            "q": form.cleaned_data["q"],
            "role": form.cleaned_data["role"],
            "organization_id": form.cleaned_data["organization"],
            "interest": form.cleaned_data["interest"],
        }
    members = selectors.member_list(viewer=me, **filters)
    page = _page(request, members, MEMBERS_PER_PAGE)
    return render(
        request,
        "web/member_list.html",
        {
            "form": form,
            "page_obj": page,
            "filtered": any(filters.values()),
            "invalid_filters": form.is_bound and not form.is_valid(),
        },
    )


def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    me = _viewer(request)
    try:
        member = access.member_for_view(me, member_id)
    except ApplicationError as err:
        if err.code != ErrorCode.NOT_FOUND:
            raise
        survivor = selectors.merge_redirect(member_id=member_id)
        if survivor is None:
            raise
        # Raises NOT_FOUND again when the viewer may not see the survivor either.
        access.member_for_view(me, survivor)
        return redirect("web:member_detail", member_id=survivor)

    me_member = access.viewer_member(me)
    is_self = me_member is not None and me_member.pk == member.pk
    staff = access.is_staff(me)
    affiliations = list(selectors.member_affiliations(member=member))
    visible_org_ids = set(
        access.visible_organizations(me)
        .filter(pk__in=[a.organization_id for a in affiliations])
        .values_list("pk", flat=True)
    )
    timeline = activity_selectors.activity_timeline(member=member) & access.visible_activities(me)
    context = {
        "member": member,
        "is_self": is_self,
        "show_private": staff or is_self,
        "show_email": access.can_see_email(me, member),
        "can_change": _may_change_member(me, member),
        "can_edit_people": access.can_edit_people(me),
        "can_merge": access.can_merge(me),
        "current_affiliations": [a for a in affiliations if a.ended_on is None],
        "past_affiliations": [a for a in affiliations if a.ended_on is not None],
        "visible_org_ids": visible_org_ids,
        "identities": list(member.identities.all()) if (staff or is_self) else [],
        "interests": list(member.interests.all()),
        "relationships": _rel_rows(selectors.relationships_of(viewer=me, member=member)),
        "merges": list(selectors.member_merges(member=member)),
        "timeline": _page(request, timeline, TIMELINE_PER_PAGE),
        "end_form": forms.AffiliationEndForm(),
        "recent_posts": space_selectors.member_recent_posts(viewer=me, member=member, limit=10),
    }
    return render(request, "web/member_detail.html", context)


def _member_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The profile fields the member form gives to both member_create and member_update."""
    return {
        "name": data["name"],
        "title": data["title"],
        "bio": data["bio"],
        "location": data["location"],
        "interests": forms.split_list(data["interests"]),
        "consent_to_contact": data["consent_to_contact"],
        "listed": data["listed"],
    }


@require_http_methods(["GET", "POST"])
def member_create(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    access.require(access.can_edit_people(me), "Only staff who manage people may add members")
    orgs = access.visible_organizations(me).order_by("name")
    form = forms.MemberForm(
        request.POST or None, organizations=orgs, initial={"consent_to_contact": True, "role": Role.CUSTOMER}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = services.member_create(
                **_member_fields(data),
                email=data["email"] or None,
                role=data["role"],
                organization=data["organization"],
                actor=me,
            )
        except ApplicationError as err:
            forms.add_service_errors(form, err)
        else:
            messages.success(request, f"{member.name} was added.")
            return redirect("web:member_detail", member_id=member.pk)
    return render(request, "web/member_form.html", {"form": form, "member": None})


@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, member_id: int) -> HttpResponse:
    me = _viewer(request)
    member = access.member_for_change(me, member_id)
    may_set_role = access.can_edit_people(me)
    initial = {
        "name": member.name,
        "email": member.email or "",
        "role": member.role,
        "title": member.title,
        "location": member.location,
        "bio": member.bio,
        "interests": ", ".join(i.name for i in member.interests.all()),
        "consent_to_contact": member.consent_to_contact,
        "listed": member.listed,
    }
    form = forms.MemberForm(request.POST or None, initial=initial, may_set_role=may_set_role)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.member_update(
                member=member,
                actor=me,
                **_member_fields(data),
                email=data["email"],
                role=data["role"] if may_set_role else None,
            )
        except ApplicationError as err:
            forms.add_service_errors(form, err)
        else:
            messages.success(request, "The profile was saved.")
            return redirect("web:member_detail", member_id=member.pk)
    return render(request, "web/member_form.html", {"form": form, "member": member})


# --- affiliations, identities, relationships -----------------------------------------------


@require_http_methods(["GET", "POST"])
def affiliation_add(request: HttpRequest, member_id: int) -> HttpResponse:
    me = _viewer(request)
    member = access.member_for_view(me, member_id)
    access.require(access.can_edit_people(me), "Only staff who manage people may add affiliations")
    form = forms.AffiliationForm(request.POST or None, organizations=access.visible_organizations(me))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            aff = services.affiliation_add(
                member=member,
                organization=data["organization"],
                title=data["title"],
                started_on=data["started_on"],
                ended_on=data["ended_on"],
                actor=me,
            )
        except ApplicationError as err:
            forms.add_service_errors(form, err)
        else:
            messages.success(request, f"Added {member.name} at {aff.organization.name}.")
            return redirect("web:member_detail", member_id=member.pk)
    return render(
        request,
        "web/subform.html",
        {"form": form, "member": member, "title": f"Add an affiliation for {member.name}", "button": "Add"},
    )


@require_POST
def affiliation_end(request: HttpRequest, affiliation_id: int) -> HttpResponse:
    me = _viewer(request)
    aff = access.affiliation_for_change(me, affiliation_id)
    form = forms.AffiliationEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The end date is not a date.")
    else:
        try:
            services.affiliation_end(affiliation=aff, ended_on=form.cleaned_data["ended_on"], actor=me)
        except ApplicationError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, f"{aff.member.name}'s place at {aff.organization.name} has ended.")
    return redirect("web:member_detail", member_id=aff.member_id)


@require_http_methods(["GET", "POST"])
def identity_add(request: HttpRequest, member_id: int) -> HttpResponse:
    me = _viewer(request)
    member = access.member_for_view(me, member_id)
    access.require(access.can_edit_people(me), "Only staff who manage people may add identities")
    form = forms.IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ident = services.identity_add(member=member, actor=me, **data)
        except ApplicationError as err:
            forms.add_service_errors(form, err)
        else:
            messages.success(request, f"Added the identity {ident}.")
            return redirect("web:member_detail", member_id=member.pk)
    return render(
        request,
        "web/subform.html",
        {"form": form, "member": member, "title": f"Add an identity for {member.name}", "button": "Add"},
    )


def _resolve_end(me: User, raw: str) -> Member | Organization | None:
    """A member by id or email, or an organisation by name, among what `me` may see."""
    raw = raw.strip()
    if raw.isdigit():
        try:
            return access.member_for_view(me, int(raw))
        except ApplicationError:
            return None
    if "@" in raw:
        return selectors.member_find(viewer=me, email=raw)
    return selectors.organization_find(viewer=me, name=raw)


def _relationship_add(request: HttpRequest, source: Member | Organization, back: str) -> HttpResponse:
    me = _viewer(request)
    access.require(access.can_edit_people(me), "Only staff who manage people may add relationships")
    form = forms.RelationshipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target = _resolve_end(me, data["target"])
        if target is None:
            form.add_error("target", "No member with this email or id, and no organisation with this name.")
        else:
            try:
                rel = services.relationship_create(
                    kind=data["kind"],
                    source=source,
                    target=target,
                    strength=data["strength"],
                    evidence=data["evidence"],
                    actor=me,
                )
            except ApplicationError as err:
                forms.add_service_errors(form, err)
            else:
                messages.success(request, f"Added: {rel}.")
                return redirect(back)
    return render(
        request,
        "web/subform.html",
        {
            "form": form,
            "member": source if isinstance(source, Member) else None,
            "organization": source if isinstance(source, Organization) else None,
            "title": f"Add a relationship from {source.name}",
            "button": "Add relationship",
        },
    )


@require_http_methods(["GET", "POST"])
def member_relationship_add(request: HttpRequest, member_id: int) -> HttpResponse:
    member = access.member_for_view(_viewer(request), member_id)
    return _relationship_add(request, member, reverse("web:member_detail", args=[member.pk]))


@require_http_methods(["GET", "POST"])
def org_relationship_add(request: HttpRequest, org_id: int) -> HttpResponse:
    org = access.organization_for_view(_viewer(request), org_id)
    return _relationship_add(request, org, reverse("web:org_detail", args=[org.pk]))


@require_POST
def relationship_delete(request: HttpRequest, rel_id: int) -> HttpResponse:
    me = _viewer(request)
    rel = access.relationship_for_change(me, rel_id)
    label = str(rel)
    services.relationship_delete(relationship=rel, actor=me)
    messages.success(request, f"Removed: {label}.")
    return HttpResponseRedirect(_safe_next(request, reverse("web:home")))


# --- merging -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def member_merge(request: HttpRequest, member_id: int) -> HttpResponse:
    """Merge another member into this one: a form, then a confirmation page, then the merge."""
    me = _viewer(request)
    access.require(access.can_merge(me), "Only admins and community managers may merge members")
    survivor = access.member_for_view(me, member_id)
    form = forms.MergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["other"].strip()
        other = _resolve_end(me, raw) if (raw.isdigit() or "@" in raw) else None
        if not isinstance(other, Member):
            form.add_error("other", "No member with this id or email.")
        elif other.pk == survivor.pk:
            form.add_error("other", "A member cannot be merged into itself. Choose another member.")
        elif request.POST.get("confirm") == "yes":
            try:
                record = services.member_merge(survivor=survivor, merged=other, actor=me)
            except ApplicationError as err:
                forms.add_service_errors(form, err)
            else:
                messages.success(request, f"{record.merged_name} was merged into {survivor.name}.")
                return redirect("web:member_detail", member_id=survivor.pk)
        else:
            return render(
                request,
                "web/merge_confirm.html",
                {
                    "survivor": survivor,
                    "other": other,
                    "preview": selectors.member_merge_preview(member=other),
                    "other_affiliations": selectors.member_affiliations(member=other),
                },
            )
    return render(
        request,
        "web/subform.html",
        {
            "form": form,
            "member": survivor,
            "title": f"Merge another member into {survivor.name}",
            "button": "Review the merge",
        },
    )


def merge_suggestions(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    access.require(access.can_merge(me), "Only admins and community managers may review merge suggestions")
    page = _page(request, selectors.merge_suggestion_list(), SUGGESTIONS_PER_PAGE)
    return render(request, "web/merge_suggestions.html", {"page_obj": page})


@require_POST
def merge_suggestion_decide(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    me = _viewer(request)
    sug = access.merge_suggestion_for_change(me, suggestion_id)
    action = request.POST.get("action", "")
    if action not in {"keep_a", "keep_b", "dismiss"}:
        messages.error(request, "Choose one of the buttons.")
        return redirect("web:merge_suggestions")
    keep = sug.member_a if action == "keep_a" else sug.member_b
    names = (sug.member_a.name, sug.member_b.name)
    try:
        services.merge_suggestion_decide(suggestion=sug, merge=action != "dismiss", survivor=keep, actor=me)
    except ApplicationError as err:
        messages.error(request, err.message)
    else:
        if action == "dismiss":
            messages.success(request, f"Marked {names[0]} and {names[1]} as different people.")
        else:
            messages.success(request, f"Merged into {keep.name}.")
    return HttpResponseRedirect(_safe_next(request, reverse("web:merge_suggestions")))


@require_POST
def merge_suggestions_refresh(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    access.require(access.can_merge(me), "Only admins and community managers may look for duplicates")
    added = services.merge_suggestions_refresh()
    if added:
        messages.success(request, f"Found {added} new suggestion{'s' if added != 1 else ''}.")
    else:
        messages.info(request, "No new suggestions: nobody else looks like a duplicate.")
    return redirect("web:merge_suggestions")


# --- organisations -------------------------------------------------------------------------


def org_list(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    form = forms.OrganizationFilterForm(request.GET or None)
    filters: dict[str, str] = {}
    if form.is_bound and form.is_valid():
        filters = {"q": form.cleaned_data["q"], "kind": form.cleaned_data["kind"]}
    page = _page(request, selectors.organization_list(viewer=me, **filters), ORGS_PER_PAGE)
    return render(
        request,
        "web/org_list.html",
        {"form": form, "page_obj": page, "filtered": any(filters.values())},
    )


def org_detail(request: HttpRequest, org_id: int) -> HttpResponse:
    me = _viewer(request)
    org = access.organization_for_view(me, org_id)
    nb = selectors.organization_neighbours(viewer=me, organization=org)
    groups = [
        ("Customers", nb.customers),
        ("Suppliers", nb.suppliers),
        ("Customers' customers", nb.customers_customers),
        ("Competitors", nb.competitors),
        ("Partners", nb.partners),
    ]
    rels = selectors.relationships_of(viewer=me, organization=org)
    rel_page = _page(request, rels, PEOPLE_PER_PAGE, "rpage")
    context = {
        "org": org,
        "domains": list(org.domains.all()),
        "groups": groups,
        "current_people": _page(
            request, selectors.organization_people(viewer=me, organization=org), PEOPLE_PER_PAGE, "page"
        ),
        "past_people": _page(
            request,
            selectors.organization_people(viewer=me, organization=org, current=False),
            PEOPLE_PER_PAGE,
            "ppage",
        ),
        "rel_page": rel_page,
        "relationships": _rel_rows(rel_page.object_list),
        "can_edit_people": access.can_edit_people(me),
        **_org_space(me, org),
    }
    return render(request, "web/org_detail.html", context)


def _org_space(me: User, org: Organization) -> dict[str, object]:
    """What the organisation page shows about the organisation's private space."""
    space = space_selectors.account_space_of(organization_id=org.pk)
    if space is not None and not access.visible_spaces(me).filter(pk=space.pk).exists():
        space = None
    can_create = access.can_create_spaces(me)
    return {
        "account_space": space,
        "can_create_account_space": can_create and space is None and org.kind != OrgKind.OURS,
        "account_space_people": list(space_selectors.space_members(space=space)) if space and can_create else [],
    }


def _org_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": data["name"],
        "kind": data["kind"],
        "website": data["website"].strip(),
        "industry": data["industry"],
        "demand_weight": 1.0 if data["demand_weight"] is None else data["demand_weight"],
        "description": data["description"],
        "domains": forms.split_list(data["domains"]),
    }


@require_http_methods(["GET", "POST"])
def org_create(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    access.require(access.can_edit_people(me), "Only staff who manage people may add organisations")
    form = forms.OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(actor=me, **_org_fields(form.cleaned_data))
        except ApplicationError as err:
            forms.add_service_errors(form, err)
        else:
            messages.success(request, f"{org.name} was added.")
            return redirect("web:org_detail", org_id=org.pk)
    return render(request, "web/org_form.html", {"form": form, "org": None})


@require_http_methods(["GET", "POST"])
def org_edit(request: HttpRequest, org_id: int) -> HttpResponse:
    me = _viewer(request)
    org = access.organization_for_change(me, org_id)
    initial = {
        "name": org.name,
        "kind": org.kind,
        "website": org.website,
        "industry": org.industry,
        "demand_weight": org.demand_weight,
        "description": org.description,
        "domains": ", ".join(d.domain for d in org.domains.all()),
    }
    form = forms.OrganizationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(organization=org, actor=me, **_org_fields(form.cleaned_data))
        except ApplicationError as err:
            forms.add_service_errors(form, err)
        else:
            messages.success(request, f"{org.name} was saved.")
            return redirect("web:org_detail", org_id=org.pk)
    return render(request, "web/org_form.html", {"form": form, "org": org})
