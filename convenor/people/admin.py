from django.contrib import admin

from convenor.people.models import (
    Affiliation,
    Domain,
    Identity,
    Interest,
    Member,
    MemberMerge,
    MergeSuggestion,
    Organization,
    Relationship,
)


class DomainInline(admin.TabularInline[Domain, Organization]):
    model = Domain
    extra = 0


class AffiliationInline(admin.TabularInline[Affiliation, Member]):
    model = Affiliation
    extra = 0
    autocomplete_fields = ["organization"]


class IdentityInline(admin.TabularInline[Identity, Member]):
    model = Identity
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ["name", "kind", "website", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "domains__domain"]
    inlines = [DomainInline]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin[Member]):
    list_display = ["name", "email", "role", "listed", "consent_to_contact", "created_at"]
    list_filter = ["role", "listed", "consent_to_contact"]
    search_fields = ["name", "email", "identities__handle"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["interests"]
    inlines = [AffiliationInline, IdentityInline]


@admin.register(Interest)
class InterestAdmin(admin.ModelAdmin[Interest]):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Affiliation)
class AffiliationAdmin(admin.ModelAdmin[Affiliation]):
    list_display = ["member", "organization", "title", "started_on", "ended_on"]
    search_fields = ["member__name", "organization__name"]
    autocomplete_fields = ["member", "organization"]


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin[Identity]):
    list_display = ["member", "source", "external_id", "handle", "email"]
    list_filter = ["source"]
    search_fields = ["external_id", "handle", "email", "member__name"]
    autocomplete_fields = ["member"]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin[Domain]):
    list_display = ["domain", "organization"]
    search_fields = ["domain", "organization__name"]
    autocomplete_fields = ["organization"]


@admin.register(Relationship)
class RelationshipAdmin(admin.ModelAdmin[Relationship]):
    list_display = ["__str__", "kind", "strength", "directed", "started_on", "ended_on"]
    list_filter = ["kind", "directed"]
    autocomplete_fields = ["source_member", "source_org", "target_member", "target_org"]


@admin.register(MergeSuggestion)
class MergeSuggestionAdmin(admin.ModelAdmin[MergeSuggestion]):
    list_display = ["member_a", "member_b", "reason", "status", "created_at"]
    list_filter = ["reason", "status"]
    autocomplete_fields = ["member_a", "member_b"]


@admin.register(MemberMerge)
class MemberMergeAdmin(admin.ModelAdmin[MemberMerge]):
    list_display = ["merged_name", "survivor", "merged_by", "merged_at"]
    search_fields = ["merged_name", "survivor__name"]
    readonly_fields = ["moved"]
