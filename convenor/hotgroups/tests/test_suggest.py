"""Suggestions keep every rule; each rule has a test that fails if the rule is dropped."""

from __future__ import annotations

import pytest
from django.test import override_settings

from convenor.core.errors import ApplicationError, ErrorCode
from convenor.graph import selectors as graph
from convenor.hotgroups import services
from convenor.hotgroups import suggest as suggesting
from convenor.hotgroups.models import Suggestion, SuggestionMember
from convenor.hotgroups.profiles import profile_refresh, topic_for_text
from convenor.people.models import Affiliation, Member, Role

from .conftest import Community

pytestmark = pytest.mark.django_db


def _people(s: Suggestion) -> list[SuggestionMember]:
    return list(SuggestionMember.objects.filter(suggestion=s).select_related("member", "organization"))


def test_suggestions_need_the_map_first(profiled: Community) -> None:
    with pytest.raises(ApplicationError) as err:
        services.suggestions_create(interest="Stream processing")
    assert err.value.code == ErrorCode.CONFLICT
    assert "build the map first: convenor map build" in err.value.message


def test_profiles_find_the_planted_cohorts(mapped: Community) -> None:
    for name, cohort in mapped.cohorts.items():
        topic = topic_for_text(name)
        pool, stages = suggesting.pool(topic, 5)
        # The pool holds the interest: exactly the planted cohort (less those who may not be
        # convened), never the bystanders or the other cohorts.
        ids = {c.member_id for c in pool}
        assert ids <= {m.pk for m in cohort}
        assert len(ids) >= len(cohort) - 1
        assert stages["hold_interest"] == len(cohort)


def test_a_suggestion_keeps_every_rule_and_explains_itself(mapped: Community) -> None:
    done = services.suggestions_create(interest="Privacy compliance", size=8, limit=1)
    [s] = done.suggestions
    people = _people(s)
    cohort = {m.pk for m in mapped.cohorts["Privacy compliance"]}
    assert len(people) == 8
    assert {p.member_id for p in people} <= cohort
    roles = [p.role for p in people]
    assert len(set(roles)) >= 3
    assert roles.count(Role.EMPLOYEE) >= 1
    assert roles.count(Role.CUSTOMER) >= 2
    assert max(sum(1 for p in people if p.organization_id == o) for o in {p.organization_id for p in people}) <= 3
    assert any(p.connector for p in people)
    # new ties counted against the map itself
    ties = graph.connected_pairs([p.member_id for p in people])
    assert s.details["pairs"] == 28
    assert s.details["new_pairs"] == 28 - len(ties)
    assert f"{28 - len(ties)} of 28 pairs are not yet connected" in s.explanation
    assert "Privacy compliance" in s.explanation and "Connectors" in s.explanation
    assert 0 < s.score <= 100


def test_competitors_are_never_together_unless_both_opted_in(mapped: Community) -> None:
    cohort = mapped.cohorts["Stream processing"]
    # 14 people; the competitor's contact cannot sit with our employees, Initech's and
    # Hooli's people compete, and so do Acme's and Globex's: a group of 13 would need two of
    # those pairs, so it is refused.
    with pytest.raises(ApplicationError) as err:
        services.suggestions_create(interest="Stream processing", size=13, limit=1)
    assert err.value.code == ErrorCode.VALIDATION
    assert "competing organisations who have not both agreed" in err.value.message
    # Once the customers of competing organisations all opt in, they may meet.
    rivals = [mapped.orgs[k] for k in ("hooli", "initech", "acme", "globex")]
    Member.objects.filter(pk__in=[m.pk for m in cohort], affiliations__organization__in=rivals).update(
        meets_competitors=True
    )
    [s] = services.suggestions_create(interest="Stream processing", size=13, limit=1).suggestions
    orgs = {p.organization_id for p in _people(s)}
    assert {o.pk for o in rivals} <= orgs
    assert mapped.orgs["rival"].pk not in orgs  # its contact did not opt in, our employees did not either


def test_people_who_opted_out_are_never_proposed(mapped: Community) -> None:
    cohort = mapped.cohorts["Demand forecasting"]
    out = [m for m in cohort if m.role == Role.CUSTOMER][:2]
    Member.objects.filter(pk__in=[m.pk for m in out]).update(consent_to_contact=False)
    pool, stages = suggesting.pool(topic_for_text("Demand forecasting"), 5)
    assert not {m.pk for m in out} & {c.member_id for c in pool}
    assert stages["consent_to_contact"] == stages["members_not_observed"] - 2
    Member.objects.filter(pk__in=[m.pk for m in cohort]).update(consent_to_contact=False)
    with pytest.raises(ApplicationError) as err:
        services.suggestions_create(interest="Demand forecasting")
    assert "opted out of being contacted" in err.value.message


def test_the_same_people_are_not_proposed_again_within_the_cool_down(mapped: Community) -> None:
    first = services.suggestions_create(interest="Privacy compliance", size=5, limit=1).suggestions[0]
    proposed = {p.member_id for p in _people(first)}
    topic = topic_for_text("Privacy compliance")
    left = suggesting._recently_proposed(topic)
    assert proposed <= left
    try:
        second = services.suggestions_create(interest="Privacy compliance", size=5, limit=1).suggestions[0]
    except ApplicationError as err:  # the connectors were just proposed: no second group yet
        assert err.code == ErrorCode.VALIDATION
    else:
        assert not {p.member_id for p in _people(second)} & proposed
    with override_settings(HOTGROUPS_COOLDOWN_DAYS=0):
        assert not suggesting._recently_proposed(topic)
        again = services.suggestions_create(interest="Privacy compliance", size=5, limit=1).suggestions[0]
    assert {p.member_id for p in _people(again)} & proposed


def test_a_group_needs_an_employee(mapped: Community) -> None:
    cohort = mapped.cohorts["Stream processing"]
    Member.objects.filter(pk__in=[m.pk for m in cohort], role=Role.EMPLOYEE).update(consent_to_contact=False)
    with pytest.raises(ApplicationError) as err:
        services.suggestions_create(interest="Stream processing", size=5)
    assert "No employee" in err.value.message
    assert "employees" in err.value.fields


def test_a_group_needs_two_customers_and_three_roles(mapped: Community) -> None:
    cohort = mapped.cohorts["Stream processing"]
    customers = [m.pk for m in cohort if m.role == Role.CUSTOMER]
    Member.objects.filter(pk__in=customers[1:]).update(consent_to_contact=False)
    with pytest.raises(ApplicationError) as err:
        services.suggestions_create(interest="Stream processing", size=5)
    assert "customer" in err.value.message and "customers" in err.value.fields
    Member.objects.filter(pk__in=customers).update(consent_to_contact=True)
    others = [m.pk for m in cohort if m.role not in (Role.EMPLOYEE, Role.CUSTOMER)]
    Member.objects.filter(pk__in=others).update(consent_to_contact=False)
    with pytest.raises(ApplicationError) as err:
        services.suggestions_create(interest="Stream processing", size=5)
    assert "roles" in err.value.fields


def test_no_organisation_holds_more_than_forty_percent(mapped: Community) -> None:
    cohort = mapped.cohorts["Privacy compliance"]
    # Move every customer of the cohort to Acme: 7 of 14 at one organisation.
    acme = mapped.orgs["acme"]
    for m in cohort:
        if m.role == Role.CUSTOMER:
            Affiliation.objects.filter(member=m).update(organization=acme)
    [s] = services.suggestions_create(interest="Privacy compliance", size=10, limit=1).suggestions
    people = _people(s)
    assert sum(1 for p in people if p.organization_id == acme.pk) <= 4
    with pytest.raises(ApplicationError) as err:
        # 12 seats: at most 4 at Acme (customers), 4 at ours (3 employees), and the rest:
        # the competitor's contact cannot join, so too few organisations remain.
        services.suggestions_create(interest="Privacy compliance", size=13, limit=1)
    assert err.value.code == ErrorCode.VALIDATION


def test_a_group_needs_a_connector(mapped: Community) -> None:
    topic = topic_for_text("Demand forecasting")
    pool, _ = suggesting.pool(topic, 5)
    connectors = [c.member_id for c in pool if c.connector]
    assert connectors
    Member.objects.filter(pk__in=connectors).update(consent_to_contact=False)
    with pytest.raises(ApplicationError) as err:
        services.suggestions_create(interest="Demand forecasting", size=5)
    assert "connector" in err.value.message.lower()


def test_violations_name_each_broken_rule() -> None:
    def c(i: int, role: str, org: int, **kw: object) -> suggesting.Candidate:
        base: dict[str, object] = {
            "member_id": i,
            "name": f"P{i}",
            "email": "",
            "role": role,
            "org_id": org,
            "org_name": f"O{org}",
            "org_kind": "",
            "meets_competitors": False,
            "share": 0.5,
            "ratio": 3.0,
        }
        base.update(kw)
        return suggesting.Candidate(**base)  # type: ignore[arg-type]  # a test's loose keywords

    rules = suggesting.Rules(competing={frozenset((1, 2))}, connected=set())
    group = [c(1, "customer", 1), c(2, "customer", 2), c(3, "customer", 1), c(4, "customer", 1, share=0.01)]
    problems = " | ".join(suggesting.violations(group, rules, 4))
    for expected in ["roles", "no employee", "holds 3 of 4", "no connector", "competitors", "P4 does not hold"]:
        assert expected in problems
    good = [c(1, "employee", 1, connector=True), c(2, "customer", 3), c(3, "customer", 4), c(5, "partner", 5)]
    good += [c(6, "supplier", 6)]
    assert suggesting.violations(good, rules, 5) == []
    both = [c(1, "customer", 1, meets_competitors=True), c(2, "customer", 2, meets_competitors=True)]
    assert not any("competitors" in v for v in suggesting.violations(both, rules))


def test_bad_input_names_the_rule(mapped: Community) -> None:
    with pytest.raises(ApplicationError) as err:
        services.suggestions_create(interest="underwater basket weaving")
    assert "Nobody in the community has the interest" in err.value.message
    with pytest.raises(ApplicationError) as err:
        services.suggestions_create(interest="Privacy compliance", size=30)
    assert "larger than the pool" in err.value.message and "size" in err.value.fields
    with pytest.raises(ApplicationError) as err:
        services.suggestions_create(interest="Privacy compliance", size=2, limit=0)
    assert set(err.value.fields) == {"size", "limit"}


def test_across_every_topic_one_group_per_topic(mapped: Community) -> None:
    done = services.suggestions_create(size=6, limit=3)
    labels = [s.topic.label for s in done.suggestions]
    assert len(labels) == 3 == len(set(labels))
    everyone = [p.member_id for s in done.suggestions for p in _people(s)]
    assert len(everyone) == len(set(everyone))
    planted = {name: {m.pk for m in ms} for name, ms in mapped.cohorts.items()}
    for s in done.suggestions:
        ids = {p.member_id for p in _people(s)}
        assert any(ids <= cohort for cohort in planted.values())


def test_profiles_update_incrementally(profiled: Community) -> None:
    from convenor.hotgroups.models import PostTopic
    from convenor.spaces.services import thread_create

    before = PostTopic.objects.count()
    author = profiled.cohorts["Stream processing"][0]
    thread_create(space=profiled.space, author=author, title="Kafka consumer lag", body="kafka consumer lag offsets")
    run = profile_refresh()
    assert not run.refitted and run.posts_projected == 1
    assert PostTopic.objects.count() == before + 1
    again = profile_refresh()
    assert again.posts_projected == 0
    refit = profile_refresh(refit=True)
    assert refit.refitted and refit.posts_projected == before + 1
