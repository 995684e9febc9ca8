"""URL routes for the whole portal."""

from django.contrib import admin
from django.urls import include, path, re_path

from offboarding.api.app import urlpatterns as api_urlpatterns
from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("offboarding.urls")),
    path("connections/", include("connections.urls")),
    path("api/v1/", include((api_urlpatterns(), "ninja"), namespace="api")),
    # Issue 16: last, so that every unknown path gets the portal's own 404 page, DEBUG or not.
    re_path(r"^(?P<path>.*)$", views.not_found, name="not-found"),
]

handler403 = "portal.views.error_403"
handler404 = "portal.views.error_404"
handler500 = "portal.views.error_500"
