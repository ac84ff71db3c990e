from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

OUR_PATHS = [
    "/api/v1/channels/",
    "/api/v1/channels/{id}/messages/",
    "/api/v1/conversations/",
    "/api/v1/conversations/{id}/",
    "/api/v1/conversations/{id}/read/",
    "/api/v1/conversations/{id}/messages/",
    "/api/v1/conversations/{id}/replies/",
    "/api/v1/messages/{id}/retry/",
]


def test_schema_lists_the_inbox_paths(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in OUR_PATHS:
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/conversations/{id}/"]) >= {"get", "patch"}
    replies = schema["paths"]["/api/v1/conversations/{id}/replies/"]["post"]["responses"]
    assert {"201", "422", "502"} <= set(replies)
    # Secrets are write-only: they are in the request body, never in a response.
    components = schema["components"]["schemas"]
    assert "secrets" in components["ChannelCreate"]["properties"]
    assert "secrets" not in components["ChannelCreated"]["properties"]
    assert "secrets" not in components["Channel"]["properties"]
    message = components["MessageDetail"]["properties"]
    assert {"response_seconds", "response_business_seconds", "terse"} <= set(message)
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_schema_is_a_valid_openapi_document():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)  # raises on an invalid document


def test_docs_page_renders(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
