"""Monitoring pages (included at "")."""

from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("settings/", views.policy_settings, name="settings"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/summary/", views.alert_summary, name="alert-summary"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert-acknowledge"),
]
