"""Routes of the offboarding pages."""

from django.urls import path

from offboarding import views
from offboarding.views import event_policies, hooks

app_name = "offboarding"

urlpatterns = [
    path("requests/", views.request_list, name="request-list"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/approve", views.request_approve, name="request-approve"),
    path("requests/<int:pk>/reject", views.request_reject, name="request-reject"),
    path("requests/<int:pk>/cancel", views.request_cancel, name="request-cancel"),
    path("requests/<int:pk>/retry", views.request_retry, name="request-retry"),
    path("requests/<int:pk>/remind", views.request_remind, name="request-remind"),  # issue 16
    path("requests/new/<str:okta_id>/", views.request_new, name="request-new"),
    path("approvals/", views.approvals, name="approvals"),
    path("audit/", views.audit_list, name="audit"),
    path("audit/verify", views.audit_verify, name="audit-verify"),
    path("audit/event/<int:seq>/", views.audit_event, name="audit-event"),  # issue 16
    path("policies/okta-groups/", views.okta_groups, name="okta-groups"),  # issue 16
    path("requests/export.<str:fmt>", views.request_export, name="request-export"),
    path("audit/export.<str:fmt>", views.audit_export, name="audit-export"),
    path("search/", views.search, name="search"),
    path("search/results", views.search_results, name="search-results"),
    path("users/<str:okta_id>/", views.user_detail, name="user-detail"),
    # Issue 13: the evidence pack of a finished request.
    path("requests/<int:pk>/evidence", views.request_evidence, name="request-evidence"),
    path(
        "requests/<int:pk>/evidence.json",
        views.request_evidence_json,
        name="request-evidence-json",
    ),
    path("requests/<int:pk>/live", views.request_live, name="request-live"),
    path("bulk/", views.bulk_new, name="bulk-new"),
    path("bulk/<int:pk>/", views.bulk_detail, name="bulk-detail"),
    path("bulk/<int:pk>/live", views.bulk_live, name="bulk-live"),
    path("bulk/<int:pk>/submit", views.bulk_submit, name="bulk-submit"),
    path("bulk/<int:pk>/approve", views.bulk_approve, name="bulk-approve"),
    path("bulk/<int:pk>/reject", views.bulk_reject, name="bulk-reject"),
    path("bulk/<int:pk>/retry", views.bulk_retry, name="bulk-retry"),
    path("bulk/<int:pk>/export.csv", views.bulk_export, name="bulk-export"),
    path("policies/", views.policies, name="policies"),
    path("policies/delegations/new", views.delegation_edit, name="delegation-new"),
    path("policies/delegations/<int:pk>/", views.delegation_edit, name="delegation-edit"),
    path("policies/protected/add", views.protected_add, name="protected-add"),
    path("policies/protected/<int:pk>/remove", views.protected_remove, name="protected-remove"),
    # Issue 14: break-glass and the after-the-fact review queue.
    path("break-glass/<str:okta_id>/", views.break_glass, name="break-glass"),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/<int:pk>/decide", views.review_decide, name="review-decide"),
    # Issue 15: API tokens
    path("api-tokens/", views.api_tokens, name="api-tokens"),
    path("api-tokens/<int:pk>/revoke", views.api_token_revoke, name="api-token-revoke"),
    # Okta event hooks and their policies (issue 14)
    path("hooks/okta/<uuid:connection_id>/", hooks.okta_event_hook, name="okta-hook"),
    path("policies/events/", event_policies.event_policies, name="event-policies"),
    path("policies/events/new", event_policies.event_policy_edit, name="event-policy-new"),
    path("policies/events/<int:pk>/", event_policies.event_policy_edit, name="event-policy-edit"),
    path(
        "policies/events/<int:pk>/delete",
        event_policies.event_policy_delete,
        name="event-policy-delete",
    ),
    path("policies/events/hook", event_policies.event_hook_settings, name="event-hook"),
    path(
        "policies/events/hook/register",
        event_policies.event_hook_register,
        name="event-hook-register",
    ),
    # Issue 17: playbooks as Arazzo documents
    path("playbooks/", views.playbook_list, name="playbooks"),
    path("playbooks/import", views.playbook_import, name="playbook-import"),
    path("playbooks/<str:kind>.arazzo.json", views.playbook_download, name="playbook-download"),
    path("requests/<int:pk>/arazzo.json", views.request_arazzo, name="request-arazzo"),
]
