"""The monitoring API (included at /api/v1/)."""

from django.urls import path

from monitoring.api import views

urlpatterns = [
    path("policy/", views.PolicyView.as_view(), name="api-policy"),
    path("alerts/", views.AlertListView.as_view(), name="api-alerts"),
    path("alerts/acknowledge/", views.AlertsAcknowledgeView.as_view(), name="api-alerts-acknowledge"),
    path("alerts/<int:pk>/acknowledge/", views.AlertAcknowledgeView.as_view(), name="api-alert-acknowledge"),
    path("alerts/<int:pk>/feedback/", views.AlertFeedbackView.as_view(), name="api-alert-feedback"),
    path("me/notifications/", views.NotificationPreferencesView.as_view(), name="api-me-notifications"),
    path("me/push-subscriptions/", views.PushSubscriptionsView.as_view(), name="api-me-push-subscriptions"),
    path("tone/check/", views.ToneCheckView.as_view(), name="api-tone-check"),
]
