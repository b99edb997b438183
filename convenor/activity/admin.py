from django.contrib import admin

from convenor.activity.models import Activity


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin[Activity]):
    list_display = ["occurred_at", "actor", "verb", "target_member", "object_kind", "object_id", "source"]
    list_filter = ["verb", "source"]
    search_fields = ["actor__name", "origin_id"]
    autocomplete_fields = ["actor", "target_member", "target_org"]
    date_hierarchy = "occurred_at"
