"""The generated OpenAPI document and the API's one error shape."""
from __future__ import annotations

import pytest


def resolve(document: dict, ref: str) -> dict:
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def all_refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in all_refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in all_refs(value)]
    return []


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_document_is_openapi_3_with_resolvable_references(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    assert document["paths"]
    for path, operations in document["paths"].items():
        assert path.startswith("/api/v1/"), path
        for method, operation in operations.items():
            assert method in {"get", "post", "put", "patch", "delete"}, (path, method)
            assert operation["responses"], (path, method)
    for ref in all_refs(document):
        assert isinstance(resolve(document, ref), dict), ref


def test_catalog_is_documented_as_public_with_a_response_schema(document):
    operation = document["paths"]["/api/v1/catalog"]["get"]
    assert "security" not in operation  # public: no bearer token
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    catalog = resolve(document, schema["$ref"]) if "$ref" in schema else schema
    assert set(catalog["properties"]) == {"categories", "sectors", "townships", "departments"}
    sector_items = catalog["properties"]["sectors"]["items"]
    sector = resolve(document, sector_items["$ref"]) if "$ref" in sector_items else sector_items
    assert {"code", "name", "name_en", "lead_department"} <= set(sector["properties"])
    assert set(sector["required"]) >= {"code", "name"}


@pytest.mark.parametrize("method, path", [("get", "/api/v1/nope"), ("post", "/api/v1/nope")])
def test_unknown_api_path_is_json_404(client, method, path):
    response = getattr(client, method)(path, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == "not_found" and error["message"] and error["fields"] == {}


def test_wrong_method_on_catalog_is_json_405(client):
    response = client.post("/api/v1/catalog", json={})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
