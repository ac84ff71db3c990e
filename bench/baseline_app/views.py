"""One INSERT of the request body, then a small JSON answer: what any Django endpoint costs at least."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare_insert(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare (body, at) VALUES (%s, now())", [request.body.decode()])
    return JsonResponse({"received": True})
