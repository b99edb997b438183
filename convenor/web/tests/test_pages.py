"""The server-rendered pages, through Django's test client."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from convenor.core.testing import PASSWORD, World
from convenor.people.models import (
    Affiliation,
    Identity,
    Member,
    MemberMerge,
    MergeSuggestion,
    MergeSuggestionStatus,
    Organization,
    Relationship,
    RelationshipKind,
    Role,
)
from convenor.people.services import member_create, member_merge
from convenor.web.tests.conftest import Richer


def _text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined,no-any-return]  # test client responses carry content


# --- login, logout, the error pages ---------------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("web:home", []),
        ("web:member_list", []),
        ("web:member_create", []),
        ("web:member_detail", [1]),
        ("web:member_edit", [1]),
        ("web:org_list", []),
        ("web:org_detail", [1]),
        ("web:org_create", []),
        ("web:merge_suggestions", []),
        ("web:member_merge", [1]),
    ],
)
def test_anonymous_visitors_are_sent_to_login(client: Client, world: World, name: str, args: list[int]) -> None:
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('web:login')}?next={url}"


def test_login_with_email_and_password_then_logout(client: Client, world: World) -> None:
    page = client.get(reverse("web:login"))
    assert page.status_code == 200
    assert 'name="username"' in _text(page)

    response = client.post(reverse("web:login"), {"username": "admin@northwind.example", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert "Ada Admin" in _text(client.get(reverse("web:home")))

    assert client.get(reverse("web:logout")).status_code == 405  # logging out needs a POST
    client.post(reverse("web:logout"))
    assert client.get(reverse("web:home")).status_code == 302


def test_login_with_a_wrong_password_says_so(client: Client, world: World) -> None:
    response = client.post(reverse("web:login"), {"username": "admin@northwind.example", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct" in _text(response)


def test_unknown_member_answers_the_404_page(admin_client: Client) -> None:
    response = admin_client.get(reverse("web:member_detail", args=[999999]))
    assert response.status_code == 404
    assert "No such member" in _text(response)
    assert "Log out" in _text(response)  # the page is in the site's layout


# --- home ------------------------------------------------------------------------------------


def test_home_counts_what_staff_see(admin_client: Client, world: World) -> None:
    MergeSuggestion.objects.create(member_a=world.acme_member, member_b=world.globex_member, reason="same_email")
    text = _text(admin_client.get(reverse("web:home")))
    assert 'href="/people/?role=customer"' in text
    assert "open merge suggestion" in text
    assert "Merge suggestions</a>" in text
    assert 'href="/admin/"' in text


def test_home_for_a_member_shows_no_staff_things(acme_client: Client) -> None:
    text = _text(acme_client.get(reverse("web:home")))
    assert "Merge suggestions" not in text
    assert "open merge suggestion" not in text
    assert 'href="/admin/"' not in text
    assert "Carla" in text


# --- member directory -------------------------------------------------------------------------


def test_directory_lists_searches_and_filters(admin_client: Client, richer: Richer) -> None:
    url = reverse("web:member_list")
    everyone = _text(admin_client.get(url))
    for name in ("Ada Admin", "Carla Acme", "Gus Globex", "Olive Outsider"):
        assert name in everyone
    assert "6 members" in everyone

    found = _text(admin_client.get(url, {"q": "data eng"}))
    assert "Carla Acme" in found
    assert "Gus Globex" not in found
    assert "1 member match" in found

    by_role = _text(admin_client.get(url, {"role": Role.EMPLOYEE}))
    assert "Ada Admin" in by_role
    assert "Carla Acme" not in by_role

    by_org = _text(admin_client.get(url, {"organization": richer.world.globex.pk}))
    assert "Gus Globex" in by_org
    assert "Carla Acme" not in by_org

    by_interest = _text(admin_client.get(url, {"interest": "security"}))
    assert "Carla Acme" in by_interest
    assert "Dora Acme" not in by_interest


def test_directory_shows_an_empty_state(admin_client: Client, world: World) -> None:
    text = _text(admin_client.get(reverse("web:member_list"), {"q": "nobody-at-all"}))
    assert "No members match" in text
    assert "clear the filters" in text


def test_directory_ignores_invalid_filters(admin_client: Client, world: World) -> None:
    response = admin_client.get(reverse("web:member_list"), {"role": "wizard"})
    assert response.status_code == 200
    assert "were not valid" in _text(response)
    assert "Carla Acme" in _text(response)


def test_directory_pages_keep_the_filters(admin_client: Client, world: World) -> None:
    for i in range(55):
        member_create(name=f"Zed Pager {i:02}", role=Role.PROSPECT)
    url = reverse("web:member_list")
    first = _text(admin_client.get(url, {"q": "pager"}))
    assert "Page 1 of 2" in first
    assert "?q=pager&amp;page=2" in first
    second = _text(admin_client.get(url, {"q": "pager", "page": "2"}))
    assert "Zed Pager 54" in second
    assert "Zed Pager 00" not in second


def test_member_sees_only_what_access_allows_in_the_directory(globex_client: Client, world: World) -> None:
    text = _text(globex_client.get(reverse("web:member_list")))
    assert "Gus Globex" in text
    assert "Ada Admin" in text  # employees are visible to everyone
    assert "Carla Acme" not in text  # not listed, not a colleague
    # The organisation filter offers only organisations the viewer may see.
    assert ">Acme<" not in text


# --- member profile ---------------------------------------------------------------------------


def test_staff_profile_shows_everything(admin_client: Client, richer: Richer) -> None:
    world = richer.world
    text = _text(admin_client.get(reverse("web:member_detail", args=[world.acme_member.pk])))
    assert "carla@acme.example" in text
    assert "Data engineer" in text
    assert "Runs the data platform" in text
    assert "Data pipelines" in text
    assert "not listed" in text and "agrees to contact" in text
    assert "slack" in text  # identities
    assert f'href="/people/{richer.dora.pk}/"' in text  # relationship's other end is linked
    assert "colleague of" in text
    assert "replied to" in text and "posted" in text  # the timeline
    assert f'href="/organizations/{world.acme.pk}/"' in text
    assert reverse("web:member_edit", args=[world.acme_member.pk]) in text
    assert reverse("web:member_merge", args=[world.acme_member.pk]) in text


def test_a_globex_customer_cannot_see_an_unlisted_acme_customer(globex_client: Client, world: World) -> None:
    response = globex_client.get(reverse("web:member_detail", args=[world.acme_member.pk]))
    assert response.status_code == 404


def test_listed_members_hide_email_and_identities_from_other_members(globex_client: Client, richer: Richer) -> None:
    text = _text(globex_client.get(reverse("web:member_detail", args=[richer.dora.pk])))
    assert "Dora Acme" in text
    assert "dora@acme.example" not in text
    assert "Identities" not in text
    assert "Edit profile" not in text
    assert "not listed" not in text  # staff-only flags


def test_members_see_their_own_email_and_may_edit(acme_client: Client, richer: Richer) -> None:
    me = richer.world.acme_member
    text = _text(acme_client.get(reverse("web:member_detail", args=[me.pk])))
    assert "carla@acme.example" in text
    assert "Identities" in text
    assert "Edit profile" in text
    assert "Add affiliation" not in text  # staff only
    assert "Merge another member" not in text
    # Their timeline shows what they did, not other members' private activity.
    assert "posted" in text


def test_profile_timeline_is_paginated(admin_client: Client, world: World) -> None:
    from convenor.activity.models import Verb
    from convenor.activity.services import record

    for i in range(30):
        record(actor=world.acme_member, verb=Verb.POSTED, object_kind="post", object_id=i)
    url = reverse("web:member_detail", args=[world.acme_member.pk])
    assert "Page 1 of 2" in _text(admin_client.get(url))
    assert "Page 2 of 2" in _text(admin_client.get(url, {"page": 2}))


def test_a_merged_member_id_redirects_to_the_survivor(admin_client: Client, richer: Richer) -> None:
    gone = richer.dora_twin.pk
    member_merge(survivor=richer.dora, merged=richer.dora_twin, actor=richer.world.admin)
    response = admin_client.get(reverse("web:member_detail", args=[gone]))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:member_detail", args=[richer.dora.pk])
    text = _text(admin_client.get(response["Location"]))
    assert "Merged from" in text and "by Ada Admin" in text


def test_a_merged_id_does_not_redirect_to_an_invisible_survivor(globex_client: Client, world: World) -> None:
    twin = member_create(name="Carla A.", role=Role.CUSTOMER)
    gone = twin.pk
    member_merge(survivor=world.acme_member, merged=twin)
    assert globex_client.get(reverse("web:member_detail", args=[gone])).status_code == 404


# --- member create and edit -------------------------------------------------------------------


def test_staff_create_a_member(admin_client: Client, world: World) -> None:
    response = admin_client.post(
        reverse("web:member_create"),
        {
            "name": "Nina New",
            "email": "Nina@Acme.example",
            "role": Role.CUSTOMER,
            "title": "Buyer",
            "location": "Oslo",
            "bio": "",
            "interests": "Security, cost control,",
            "consent_to_contact": "on",
            "organization": world.acme.pk,
        },
        follow=True,
    )
    nina = Member.objects.get(name="Nina New")
    assert response.redirect_chain[-1][0] == reverse("web:member_detail", args=[nina.pk])
    assert "Nina New was added." in _text(response)
    assert nina.email == "nina@acme.example"
    assert sorted(i.name for i in nina.interests.all()) == ["Security", "cost control"]
    assert nina.consent_to_contact and not nina.listed
    assert Affiliation.objects.filter(member=nina, organization=world.acme, title="Buyer").exists()


def test_member_form_shows_field_errors(admin_client: Client, world: World) -> None:
    response = admin_client.post(
        reverse("web:member_create"), {"name": "Copy", "email": "carla@acme.example", "role": Role.CUSTOMER}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "already belongs to Carla Acme" in form.errors["email"][0]
    assert "already belongs to Carla Acme" in _text(response)

    response = admin_client.post(reverse("web:member_create"), {"name": "", "email": "bad", "role": "wizard"})
    form = response.context["form"]
    assert set(form.errors) == {"name", "email", "role"}
    assert not Member.objects.filter(email="bad").exists()


def test_non_editors_cannot_create_or_edit_others(acme_client: Client, world: World) -> None:
    assert acme_client.get(reverse("web:member_create")).status_code == 403
    assert acme_client.post(reverse("web:member_create"), {"name": "X", "role": "other"}).status_code == 403
    assert acme_client.get(reverse("web:org_create")).status_code == 403
    # An employee is visible to everyone, but only staff may change them: 403.
    response = acme_client.get(reverse("web:member_edit", args=[world.admin_member.pk]))
    assert response.status_code == 403
    assert "Not allowed" in _text(response)
    # Someone they cannot see at all stays hidden: 404.
    assert acme_client.get(reverse("web:member_edit", args=[world.globex_member.pk])).status_code == 404


def test_members_edit_their_own_profile_but_not_their_role(acme_client: Client, world: World) -> None:
    url = reverse("web:member_edit", args=[world.acme_member.pk])
    page = acme_client.get(url)
    assert page.status_code == 200
    assert 'name="role"' not in _text(page)
    assert 'value="carla@acme.example"' in _text(page)
    response = acme_client.post(
        url,
        {
            "name": "Carla A. Acme",
            "email": "carla@acme.example",
            "role": Role.EMPLOYEE,
            "title": "Lead engineer",
            "interests": "Streaming",
            "listed": "on",
        },
    )
    assert response.status_code == 302
    me = Member.objects.get(pk=world.acme_member.pk)
    assert (me.name, me.title, me.role, me.listed) == ("Carla A. Acme", "Lead engineer", Role.CUSTOMER, True)
    assert not me.consent_to_contact


def test_staff_edit_a_member_with_errors_then_success(admin_client: Client, world: World) -> None:
    url = reverse("web:member_edit", args=[world.acme_member.pk])
    bad = admin_client.post(url, {"name": "Carla", "email": "gus@globex.example", "role": Role.CUSTOMER})
    assert bad.status_code == 200
    assert "already belongs to Gus Globex" in bad.context["form"].errors["email"][0]
    good = admin_client.post(url, {"name": "Carla", "email": "", "role": Role.PARTNER}, follow=True)
    assert "The profile was saved." in _text(good)
    me = Member.objects.get(pk=world.acme_member.pk)
    assert me.email is None and me.role == Role.PARTNER


# --- affiliations, identities, relationships --------------------------------------------------


def test_staff_add_and_end_an_affiliation(admin_client: Client, world: World) -> None:
    member = world.outsider_member
    url = reverse("web:affiliation_add", args=[member.pk])
    assert admin_client.get(url).status_code == 200
    bad = admin_client.post(
        url, {"organization": world.globex.pk, "started_on": "2024-05-01", "ended_on": "2024-01-01"}
    )
    assert "before the start date" in bad.context["form"].errors["ended_on"][0]
    ok = admin_client.post(url, {"organization": world.globex.pk, "title": "CFO", "started_on": "2024-05-01"})
    assert ok.status_code == 302
    aff = Affiliation.objects.get(member=member, organization=world.globex)

    again = admin_client.post(url, {"organization": world.globex.pk})
    assert "already has a current place" in again.context["form"].errors["organization"][0]

    ended = admin_client.post(reverse("web:affiliation_end", args=[aff.pk]), {"ended_on": "2025-01-31"}, follow=True)
    assert "has ended" in _text(ended)
    aff.refresh_from_db()
    assert str(aff.ended_on) == "2025-01-31"


def test_ending_an_affiliation_before_it_started_shows_a_message(admin_client: Client, world: World) -> None:
    url = reverse("web:affiliation_add", args=[world.outsider_member.pk])
    admin_client.post(url, {"organization": world.globex.pk, "started_on": "2024-05-01"})
    aff = Affiliation.objects.get(member=world.outsider_member)
    response = admin_client.post(reverse("web:affiliation_end", args=[aff.pk]), {"ended_on": "2020-01-01"}, follow=True)
    assert "before the start date" in _text(response)
    aff.refresh_from_db()
    assert aff.ended_on is None


def test_members_cannot_change_affiliations(acme_client: Client, world: World) -> None:
    aff = Affiliation.objects.get(member=world.acme_member)
    assert acme_client.post(reverse("web:affiliation_end", args=[aff.pk])).status_code == 403
    assert acme_client.get(reverse("web:affiliation_add", args=[world.acme_member.pk])).status_code == 403
    assert acme_client.get(reverse("web:affiliation_end", args=[aff.pk])).status_code == 405


def test_staff_add_an_identity_and_see_duplicates_clearly(admin_client: Client, richer: Richer) -> None:
    url = reverse("web:identity_add", args=[richer.dora.pk])
    ok = admin_client.post(url, {"source": "Slack", "external_id": "U999", "handle": "dora"}, follow=True)
    assert "Added the identity slack:dora" in _text(ok)
    assert Identity.objects.filter(member=richer.dora, source="slack", external_id="U999").exists()

    dup = admin_client.post(url, {"source": "slack", "external_id": "U123"})
    assert dup.status_code == 200
    text = _text(dup)
    assert "slack:U123 already belongs to Carla Acme" in text
    assert "already belongs to member" in dup.context["form"].errors["external_id"][0]

    missing = admin_client.post(url, {"source": "", "external_id": ""})
    assert set(missing.context["form"].errors) == {"source", "external_id"}


def test_staff_add_relationships_by_email_and_by_organisation_name(admin_client: Client, world: World) -> None:
    url = reverse("web:member_relationship_add", args=[world.acme_member.pk])
    assert admin_client.get(url).status_code == 200
    to_member = admin_client.post(
        url,
        {"kind": RelationshipKind.KNOWS, "target": "GUS@globex.example", "strength": "2", "evidence": "met"},
    )
    assert to_member.status_code == 302
    assert Relationship.objects.filter(kind="knows", evidence="met").count() == 1

    to_org = admin_client.post(url, {"kind": RelationshipKind.ADVISES, "target": "globex", "strength": "1"})
    assert to_org.status_code == 302
    assert Relationship.objects.filter(
        kind="advises", source_member=world.acme_member, target_org=world.globex
    ).exists()

    dup = admin_client.post(url, {"kind": RelationshipKind.ADVISES, "target": "Globex", "strength": "1"})
    assert dup.status_code == 200
    assert "already advises Globex" in _text(dup)
    assert "already exists" in dup.context["form"].errors["target"][0]

    unknown = admin_client.post(url, {"kind": RelationshipKind.KNOWS, "target": "nobody@x.example", "strength": "1"})
    assert "No member with this email" in unknown.context["form"].errors["target"][0]

    to_self = admin_client.post(
        url, {"kind": RelationshipKind.KNOWS, "target": str(world.acme_member.pk), "strength": "1"}
    )
    assert "two different ends" in to_self.context["form"].errors["target"][0]

    bad_strength = admin_client.post(url, {"kind": "knows", "target": "globex", "strength": "500"})
    assert "strength" in bad_strength.context["form"].errors


def test_staff_add_a_relationship_between_organisations(admin_client: Client, world: World) -> None:
    url = reverse("web:org_relationship_add", args=[world.acme.pk])
    response = admin_client.post(
        url, {"kind": RelationshipKind.PARTNER_OF, "target": "Northwind Systems", "strength": "1"}
    )
    assert response.status_code == 302
    text = _text(admin_client.get(reverse("web:org_detail", args=[world.acme.pk])))
    assert "partner of" in text


def test_staff_delete_a_relationship_and_members_cannot(
    admin_client: Client, acme_client: Client, richer: Richer
) -> None:
    rel = Relationship.objects.get(kind=RelationshipKind.COLLEAGUE)
    back = reverse("web:member_detail", args=[richer.world.acme_member.pk])
    url = reverse("web:relationship_delete", args=[rel.pk])
    assert acme_client.post(url, {"next": back}).status_code == 403
    assert admin_client.get(url).status_code == 405
    response = admin_client.post(url, {"next": back})
    assert response["Location"] == back
    assert not Relationship.objects.filter(pk=rel.pk).exists()
    # An open redirect is refused.
    rel2 = Relationship.objects.get(kind=RelationshipKind.KNOWS)
    response = admin_client.post(reverse("web:relationship_delete", args=[rel2.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("web:home")


# --- organisations -----------------------------------------------------------------------------


def test_organisation_directory_searches_filters_and_counts_people(admin_client: Client, world: World) -> None:
    url = reverse("web:org_list")
    text = _text(admin_client.get(url))
    assert "Acme" in text and "Globex" in text and "Northwind Systems" in text
    assert "acme.example" in text
    by_domain = _text(admin_client.get(url, {"q": "globex.ex"}))
    assert "Globex" in by_domain and ">Acme<" not in by_domain
    ours = admin_client.get(url, {"kind": "ours"})
    assert [o.name for o in ours.context["page_obj"]] == ["Northwind Systems"]
    assert ours.context["page_obj"][0].people == 1
    assert "No organisations match" in _text(admin_client.get(url, {"q": "zzz"}))


def test_members_see_only_their_own_and_our_organisation(globex_client: Client, world: World) -> None:
    text = _text(globex_client.get(reverse("web:org_list")))
    assert "Globex" in text and "Northwind Systems" in text
    assert ">Acme<" not in text
    assert globex_client.get(reverse("web:org_detail", args=[world.acme.pk])).status_code == 404


def test_organisation_page_shows_people_and_neighbours(admin_client: Client, richer: Richer) -> None:
    world = richer.world
    ours = _text(admin_client.get(reverse("web:org_detail", args=[world.ours.pk])))
    assert "Ada Admin" in ours
    # Acme and Globex are customers of ours; the raw list shows the lines too.
    assert f'href="/organizations/{world.acme.pk}/"' in ours
    assert "customer of" in ours

    acme = admin_client.get(reverse("web:org_detail", args=[world.acme.pk]))
    groups = dict(acme.context["groups"])
    assert [o.name for o in groups["Competitors"]] == ["Globex"]
    assert [o.name for o in groups["Suppliers"]] == ["Northwind Systems"]
    text = _text(acme)
    assert "Carla Acme" in text and "Dora Acme" in text
    assert "acme.example" in text
    assert reverse("web:org_edit", args=[world.acme.pk]) in text


def test_organisation_page_lists_past_people(admin_client: Client, world: World) -> None:
    aff = Affiliation.objects.get(member=world.globex_member)
    admin_client.post(reverse("web:affiliation_end", args=[aff.pk]), {"ended_on": "2025-03-01"})
    response = admin_client.get(reverse("web:org_detail", args=[world.globex.pk]))
    assert "Past people" in _text(response)
    assert "Nobody you can see works here now" in _text(response)


def test_staff_create_and_edit_organisations(admin_client: Client, world: World) -> None:
    response = admin_client.post(
        reverse("web:org_create"),
        {
            "name": "Initech",
            "kind": "prospect",
            "website": "https://initech.example",
            "description": "TPS reports",
            "domains": "initech.example, https://www.initech.co.example/",
        },
    )
    org = Organization.objects.get(name="Initech")
    assert response["Location"] == reverse("web:org_detail", args=[org.pk])
    assert sorted(d.domain for d in org.domains.all()) == ["initech.co.example", "initech.example"]

    edit_url = reverse("web:org_edit", args=[org.pk])
    page = _text(admin_client.get(edit_url))
    assert 'value="initech.co.example, initech.example"' in page
    bad = admin_client.post(
        edit_url,
        {"name": "Globex", "kind": "ours", "website": "ftp://x", "domains": "acme.example, bad_domain"},
    )
    errors = bad.context["form"].errors
    assert set(errors) == {"name", "kind", "website", "domains"}
    assert "acme.example already belongs to Acme" in _text(bad)
    ok = admin_client.post(edit_url, {"name": "Initech Inc", "kind": "customer", "domains": "initech.example"})
    assert ok.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.kind, org.website) == ("Initech Inc", "customer", "")
    assert [d.domain for d in org.domains.all()] == ["initech.example"]


def test_non_editors_cannot_edit_organisations(acme_client: Client, world: World) -> None:
    assert acme_client.get(reverse("web:org_edit", args=[world.acme.pk])).status_code == 403
    assert acme_client.post(reverse("web:org_create"), {"name": "X", "kind": "other"}).status_code == 403
    assert not Organization.objects.filter(name="X").exists()


# --- merging -----------------------------------------------------------------------------------


def test_merge_suggestions_are_staff_only(acme_client: Client, richer: Richer) -> None:
    assert acme_client.get(reverse("web:merge_suggestions")).status_code == 403
    assert acme_client.post(reverse("web:merge_suggestions_refresh")).status_code == 403
    sug = MergeSuggestion.objects.create(member_a=richer.dora, member_b=richer.dora_twin, reason="same_name_org")
    response = acme_client.post(reverse("web:merge_suggestion_decide", args=[sug.pk]), {"action": "dismiss"})
    assert response.status_code == 403


def test_find_review_and_merge_suggestions(admin_client: Client, richer: Richer) -> None:
    empty = _text(admin_client.get(reverse("web:merge_suggestions")))
    assert "Nothing to review" in empty
    found = admin_client.post(reverse("web:merge_suggestions_refresh"), follow=True)
    assert "Found 1 new suggestion." in _text(found)
    text = _text(found)
    assert "Same name at the same organisation" in text
    assert "dora@acme.example" in text and "no email" in text
    assert "Merge (keep left)" in text and "Merge (keep right)" in text and "Not the same person" in text

    again = admin_client.post(reverse("web:merge_suggestions_refresh"), follow=True)
    assert "No new suggestions" in _text(again)

    sug = MergeSuggestion.objects.get()
    keep, gone = sug.member_b, sug.member_a
    response = admin_client.post(
        reverse("web:merge_suggestion_decide", args=[sug.pk]), {"action": "keep_b"}, follow=True
    )
    assert f"Merged into {keep.name}." in _text(response)
    assert not Member.objects.filter(pk=gone.pk).exists()
    assert MemberMerge.objects.filter(survivor=keep, merged_member_id=gone.pk).exists()


def test_dismiss_a_suggestion(admin_client: Client, richer: Richer) -> None:
    sug = MergeSuggestion.objects.create(member_a=richer.dora, member_b=richer.dora_twin, reason="same_name_org")
    response = admin_client.post(
        reverse("web:merge_suggestion_decide", args=[sug.pk]), {"action": "dismiss"}, follow=True
    )
    assert "different people" in _text(response)
    sug.refresh_from_db()
    assert sug.status == MergeSuggestionStatus.DISMISSED
    twice = admin_client.post(reverse("web:merge_suggestion_decide", args=[sug.pk]), {"action": "keep_a"}, follow=True)
    assert "already dismissed" in _text(twice)
    assert Member.objects.filter(pk=richer.dora_twin.pk).exists()


def test_manual_merge_previews_then_merges(admin_client: Client, richer: Richer) -> None:
    url = reverse("web:member_merge", args=[richer.dora.pk])
    assert admin_client.get(url).status_code == 200
    preview = admin_client.post(url, {"other": str(richer.dora_twin.pk)})
    assert preview.status_code == 200
    assert "web/merge_confirm.html" in [t.name for t in preview.templates]
    assert preview.context["preview"]["affiliations"] == 1
    assert Member.objects.filter(pk=richer.dora_twin.pk).exists()  # nothing happened yet

    done = admin_client.post(url, {"other": str(richer.dora_twin.pk), "confirm": "yes"}, follow=True)
    assert "was merged into Dora Acme" in _text(done)
    assert not Member.objects.filter(pk=richer.dora_twin.pk).exists()


def test_manual_merge_by_email_and_its_errors(admin_client: Client, richer: Richer) -> None:
    url = reverse("web:member_merge", args=[richer.dora.pk])
    by_email = admin_client.post(url, {"other": "OLIVE@elsewhere.example"})
    assert by_email.context["other"].pk == richer.world.outsider_member.pk

    itself = admin_client.post(url, {"other": "dora@acme.example"})
    assert "cannot be merged into itself" in itself.context["form"].errors["other"][0]
    unknown = admin_client.post(url, {"other": "Somebody"})
    assert "No member with this id or email" in unknown.context["form"].errors["other"][0]


def test_only_mergers_may_merge_members(acme_client: Client, world: World) -> None:
    url = reverse("web:member_merge", args=[world.acme_member.pk])
    assert acme_client.get(url).status_code == 403
    response = acme_client.post(url, {"other": str(world.outsider_member.pk), "confirm": "yes"})
    assert response.status_code == 403
    assert Member.objects.filter(pk=world.outsider_member.pk).exists()
