from django.urls import path

from bench.baseline_app.views import bare_insert

urlpatterns = [path("bare/", bare_insert)]
