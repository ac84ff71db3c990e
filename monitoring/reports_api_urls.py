"""Reports API (included at /api/v1/reports/ by config/urls.py)."""

from django.urls import path

from monitoring.reports_api import ResponseTimesView

urlpatterns = [
    path("response-times/", ResponseTimesView.as_view(), name="reports-response-times"),
]
