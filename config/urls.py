from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from inbox.api.schema import SerialSpectacularAPIView
from inbox.webhooks import webhook

# API paths answer an unmatched URL as JSON, like every other API error (inbox/api/errors.py).
handler404 = "inbox.api.errors.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/<slug:platform>/", webhook, name="webhook"),
    path("api/schema/", SerialSpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("inbox.api.urls")),
    path("api/v1/", include("monitoring.api_urls")),
    path("api/v1/reports/", include("monitoring.reports_api_urls")),
    path("dashboard/", include("monitoring.dashboard_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("monitoring.urls")),
    path("", include("inbox.urls")),
]
