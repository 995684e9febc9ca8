"""Routes of the offboarding pages."""

from django.urls import path

from offboarding import views

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
    path("requests/<int:pk>/live", views.request_live, name="request-live"),
    path("policies/", views.policies, name="policies"),
    path("policies/delegations/new", views.delegation_edit, name="delegation-new"),
    path("policies/delegations/<int:pk>/", views.delegation_edit, name="delegation-edit"),
    path("policies/protected/add", views.protected_add, name="protected-add"),
    path("policies/protected/<int:pk>/remove", views.protected_remove, name="protected-remove"),
    # Issue 14: break-glass and the after-the-fact review queue.
    path("break-glass/<str:okta_id>/", views.break_glass, name="break-glass"),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/<int:pk>/decide", views.review_decide, name="review-decide"),
]
