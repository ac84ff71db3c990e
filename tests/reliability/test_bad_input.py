"""Bad query input found by the fuzzers: bounded or refused with a 4xx, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/conversations/", "/api/v1/channels/", "/api/v1/alerts/"])
@pytest.mark.parametrize("query", ["limit=20276731499780481024", "offset=99999999999999999999999"])
def test_huge_pagination_values_are_bounded_not_500(owner, path, query):
    caller = Client(HTTP_AUTHORIZATION=f"Token {owner.api_token}")
    response = caller.get(f"{path}?{query}")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"] == []


@pytest.mark.parametrize("path", ["/api/v1/conversations/", "/api/v1/channels/", "/api/v1/alerts/"])
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("limit=5&offset=-3", "offset"),
        ("limit=abc", "limit"),
        ("offset=null", "offset"),
        ("limit=0", "limit"),
        ("offset=1&offset=2", "offset"),
    ],
)
def test_unreadable_pagination_values_are_a_400_naming_the_parameter(owner, path, query, name):
    # DRF's own pagination reads these as "no value" and answers page one: a client's typo looked like data.
    caller = Client(HTTP_AUTHORIZATION=f"Token {owner.api_token}")
    response = caller.get(f"{path}?{query}")
    assert response.status_code == 400, response.content[:300]
    assert name in response.json()
