"""The plain-SQL readers of public threads and spaces (access.public_thread_for_view_sql,
public_space_for_view_sql) find exactly what their ORM versions find, with the same values:
published threads of public spaces and public spaces, nothing else."""

from __future__ import annotations

from django.db import models

from convenor.core import access
from convenor.core.testing import World
from convenor.spaces.models import Frame, PostState, Space, Thread, Visibility
from convenor.spaces.services import space_create, thread_create


def _values(obj: models.Model) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_plain_queries_find_what_the_orm_finds(world: World, lounge: Space, acme_space: Space) -> None:
    square = space_create(
        name="Square", frame=Frame.COMMUNITY, visibility=Visibility.PUBLIC, creator=world.admin_member
    )
    threads = []
    for space in (square, lounge, acme_space):
        thread = thread_create(space=space, author=world.admin_member, title="Shown", body="Words", kind="discussion")
        held = thread_create(space=space, author=world.admin_member, title="Held", body="Words", kind="question")
        Thread.objects.filter(pk=held.pk).update(state=PostState.HELD)
        threads += [thread, held]
    found = []
    for thread in threads:
        orm = access.public_thread_for_view(thread.pk)
        sql = access.public_thread_for_view_sql(thread.pk)
        assert (orm is None) == (sql is None), thread
        if orm is not None and sql is not None:
            found.append(sql.pk)
            assert _values(sql) == _values(orm)
            assert _values(sql.space) == _values(orm.space)
            assert _values(sql.author) == _values(orm.author)
    assert found == [threads[0].pk]  # the published thread of the public space only
    for space in (square, lounge, acme_space):
        orm_space = access.public_space_for_view(space.slug)
        sql_space = access.public_space_for_view_sql(space.slug)
        assert (orm_space is None) == (sql_space is None)
        if orm_space is not None and sql_space is not None:
            assert _values(sql_space) == _values(orm_space)
    assert access.public_space_for_view_sql(square.slug) is not None
    assert access.public_thread_for_view_sql(10**9) is None


def test_viewer_member_is_the_orm_member_read_with_one_plain_query(world: World) -> None:
    """access.viewer_member reads the member with one_row: the same instance values as the
    ORM's `Member.objects.filter(user=user).first()`, and None for an account without one."""
    from django.contrib.auth.models import AnonymousUser

    from convenor.core.models import User
    from convenor.people.models import Member

    for user in (world.admin, world.acme_user, world.globex_user, world.outsider):
        fresh = User.objects.get(pk=user.pk)  # no memo from an earlier call
        member = access.viewer_member(fresh)
        orm = Member.objects.filter(user=fresh).first()
        assert member is not None and orm is not None
        assert _values(member) == _values(orm)
        assert access.viewer_member(fresh) is member  # kept on the request's user
    lone = User.objects.create(email="lone@example.com", name="Lone")
    assert access.viewer_member(lone) is None
    assert access.viewer_member(AnonymousUser()) is None


def test_a_row_read_again_gives_equal_instances_of_their_own(world: World, lounge: Space) -> None:
    """The converted values of a row read lately are remembered (access._CONVERTED): the
    instances are equal to the ORM's, each with a dict of its own; rows whose values could
    change in place (a JSON field's dict) are not remembered."""
    thread = thread_create(space=lounge, author=world.admin_member, title="Twice", body="Words", kind="discussion")
    Space.objects.filter(pk=lounge.pk).update(visibility=Visibility.PUBLIC)
    first = access.public_thread_for_view_sql(thread.pk)
    second = access.public_thread_for_view_sql(thread.pk)
    assert first is not None and second is not None and first is not second
    orm = Thread.objects.get(pk=thread.pk)
    assert _values(first) == _values(second) == _values(orm)
    assert not first._state.adding and first._state.db == "default"
    first.title = "Changed here only"
    assert second.title == "Twice" and access.public_thread_for_view_sql(thread.pk).title == "Twice"  # type: ignore[union-attr]
    # A later change of the row is a new row: read afresh.
    Thread.objects.filter(pk=thread.pk).update(title="Renamed")
    assert access.public_thread_for_view_sql(thread.pk).title == "Renamed"  # type: ignore[union-attr]
    # Mutable values are never shared.
    assert dict not in access._IMMUTABLE and list not in access._IMMUTABLE


def test_instances_made_without_init_are_the_ones_from_db_makes(world: World, lounge: Space) -> None:
    """access._from_db skips Model.__init__ only where nothing can tell: the instance has the
    same dict and state as ``from_db`` gives, saves and reloads like one; with a pre_init or
    post_init receiver connected, Django's own way is taken."""
    from django.db.models import signals

    from convenor.core.models import User

    thread = thread_create(space=lounge, author=world.admin_member, title="Made", body="Words", kind="discussion")
    names = [f.attname for f in Thread._meta.concrete_fields]
    values = tuple(getattr(Thread.objects.get(pk=thread.pk), name) for name in names)
    assert access._plain_model(Thread) and access._plain_model(Space) and access._plain_model(User)
    made = access._from_db(Thread, "default", names, values)
    orm = Thread.from_db("default", names, values)
    assert type(made) is Thread and _values(made) == _values(orm)
    assert access.field_values(made) == tuple(_values(orm).values()) == values
    assert not made._state.adding and made._state.db == "default" and made._state.fields_cache == {}
    assert made.space == lounge and made.author_id == world.admin_member.pk  # relations load as usual
    made.title = "Saved"
    made.save(update_fields=["title"])
    assert Thread.objects.get(pk=thread.pk).title == "Saved"

    seen: list[object] = []

    def receiver(sender: object, **kwargs: object) -> None:
        seen.append(sender)

    signals.post_init.connect(receiver, sender=Thread)
    try:
        access._from_db(Thread, "default", names, values)
    finally:
        signals.post_init.disconnect(receiver, sender=Thread)
    assert seen == [Thread]
