"""URL routes of the connection pages."""

from django.urls import path

from connections import views

app_name = "connections"

urlpatterns = [
    path("", views.connection_list, name="list"),
    path("<str:system>/", views.connection_edit, name="edit"),
    path("<str:system>/test/", views.connection_test, name="test"),
    path("<str:system>/enabled/", views.connection_enable, name="enable"),
]
