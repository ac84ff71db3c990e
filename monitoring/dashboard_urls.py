"""The owner's dashboard (included at /dashboard/ by config/urls.py)."""

from django.urls import path

from monitoring import dashboard_views

app_name = "dashboard"

urlpatterns = [
    path("", dashboard_views.dashboard, name="index"),
    path("data/", dashboard_views.dashboard_data, name="data"),
    path("export/admins.csv", dashboard_views.export_members_csv, name="export-members"),
    path("export/channels.csv", dashboard_views.export_channels_csv, name="export-channels"),
    path("export/replies.csv", dashboard_views.export_replies_csv, name="export-replies"),
]
