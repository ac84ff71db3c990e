"""Monitoring pages (included at "")."""

from django.urls import path

from monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("settings/", views.policy_settings, name="settings"),
    path("settings/notifications/", views.notification_settings, name="notifications"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/summary/", views.alert_summary, name="alert-summary"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert-acknowledge"),
    path("alerts/<int:pk>/feedback/", views.alert_feedback_view, name="alert-feedback"),
]
