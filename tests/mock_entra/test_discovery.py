"""Discovery documents, instance discovery and JWKS, as Entra serves them."""

from __future__ import annotations

import json

import pytest

from .conftest import BASE, TENANT


def get(client, path: str):
    return client.get(path, base_url=BASE)


@pytest.mark.parametrize("segment", [TENANT, "contoso.onmicrosoft.com"])
def test_v2_document_uses_the_tenant_guid(client, segment):
    doc = get(client, f"/{segment}/v2.0/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == f"{BASE}/{TENANT}/v2.0"
    assert doc["token_endpoint"] == f"{BASE}/{TENANT}/oauth2/v2.0/token"
    assert doc["jwks_uri"] == f"{BASE}/{TENANT}/discovery/v2.0/keys"
    assert doc["end_session_endpoint"] == f"{BASE}/{TENANT}/oauth2/v2.0/logout"
    assert doc["userinfo_endpoint"] == f"{BASE}/oidc/userinfo"
    assert doc["subject_types_supported"] == ["pairwise"]
    assert "client_secret_basic" in doc["token_endpoint_auth_methods_supported"]
    assert doc["tenant_region_scope"] == "WW"
    assert all(doc[k].startswith("https://") for k in doc if k.endswith("_endpoint"))


@pytest.mark.parametrize("alias", ["common", "organizations"])
def test_alias_documents_carry_the_tenantid_template(client, alias):
    doc = get(client, f"/{alias}/v2.0/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == f"{BASE}/{{tenantid}}/v2.0"
    assert doc["token_endpoint"] == f"{BASE}/{alias}/oauth2/v2.0/token"
    assert doc["tenant_region_scope"] is None


def test_v1_document_for_identity_logout(client):
    doc = get(client, f"/{TENANT}/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == f"https://sts.windows.net/{TENANT}/"
    assert doc["end_session_endpoint"] == f"{BASE}/{TENANT}/oauth2/logout"


def test_unknown_tenant_is_aadsts90002_json(client):
    response = get(client, "/nope/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_tenant"
    assert response.get_json()["error_codes"] == [90002]


def test_discovery_is_cacheable_for_a_day(client):
    response = get(client, f"/{TENANT}/v2.0/.well-known/openid-configuration")
    assert response.headers["Cache-Control"] == "max-age=86400, private"


def test_jwks_has_two_keys_shaped_like_entras(client):
    keys = get(client, f"/{TENANT}/discovery/v2.0/keys").get_json()["keys"]
    assert len(keys) == 2
    for key in keys:
        assert key["kty"] == "RSA" and key["use"] == "sig" and key["kid"] == key["x5t"]
        assert len(key["kid"]) == 27 and key["x5c"] and "alg" not in key
        assert key["issuer"] == f"{BASE}/{TENANT}/v2.0"
    v1 = get(client, f"/{TENANT}/discovery/keys").get_json()["keys"]
    assert all("issuer" not in k for k in v1)


@pytest.mark.parametrize(
    ("alias", "tid"),
    [
        ("common", "{tenantid}"),
        ("organizations", "{tenantid}"),
        ("consumers", "9188040d-6c67-4c5b-b112-36a304b66dad"),
    ],
)
def test_alias_keys_carry_the_issuer_of_the_alias_document(client, alias, tid):
    # /consumers keys name the personal accounts' tenant, as its document's `issuer` does
    # (observed: tests/fidelity/exchanges/jwks-v2-consumers-observed-node-home-api.json).
    doc = get(client, f"/{alias}/v2.0/.well-known/openid-configuration").get_json()
    keys = get(client, f"/{alias}/discovery/v2.0/keys").get_json()["keys"]
    assert doc["issuer"] == f"{BASE}/{tid}/v2.0"
    assert {k["issuer"] for k in keys} == {doc["issuer"]}


def test_instance_discovery_answers_msals_alias_lookup(client):
    response = get(
        client,
        "/common/discovery/instance?api-version=1.1&authorization_endpoint="
        "https://localhost/common/oauth2/authorize",
    )
    body = response.get_json()
    assert body["tenant_discovery_endpoint"] == (f"{BASE}/common/.well-known/openid-configuration")
    assert body["metadata"][0]["aliases"] == ["localhost"]
    assert any("login.microsoftonline.com" in m["aliases"] for m in body["metadata"])


def test_instance_discovery_refuses_unknown_hosts(client):
    response = get(
        client,
        "/common/discovery/instance?api-version=1.0&authorization_endpoint="
        "https://evil.example/x/oauth2/v2.0/authorize",
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_instance"


def test_documents_list_their_fields_in_entras_order(client):
    v2 = client.get(f"/{TENANT}/v2.0/.well-known/openid-configuration", base_url=BASE)
    names = list(json.loads(v2.get_data()))
    assert names[:3] == ["token_endpoint", "token_endpoint_auth_methods_supported", "jwks_uri"]
    assert (
        names.index("issuer") < names.index("userinfo_endpoint") < names.index("claims_supported")
    )
    assert names[-1] == "rbac_url" and len(names) == len(set(names)) == 23
    v1 = client.get(f"/{TENANT}/.well-known/openid-configuration", base_url=BASE)
    names = list(json.loads(v1.get_data()))
    assert names.index("check_session_iframe") == names.index("claims_supported") + 1
    assert names[-1] == "rbac_url" and len(names) == 24
