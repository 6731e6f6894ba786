"""Client authentication: client secrets, certificate credentials (client assertions) and
federated credentials (another issuer's assertion)."""

from __future__ import annotations

from mock_entra.core.aadsts.entry import Aadsts

_E = Aadsts

AADSTS7000215 = _E(
    7000215,
    "invalid_client",
    401,
    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
)
AADSTS7000218 = _E(
    7000218,
    "invalid_client",
    401,
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
)
# -- certificate credentials (client assertions) -------------------------------------------
# Learn "Microsoft identity platform certificate credentials" (the assertion's format),
# "Microsoft Entra authentication and authorization error codes", azure-identity's
# troubleshooting guide (700021, 700023, 700027, 50027) and Entra answers captured in public
# issues (700024 with its times, 700027 with its reason, 90014, 5002723, 5002738, 5002741).
_CERT_DOC = "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."
_KEYS_HINT = (
    "Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured "
    "keys for app Id '{client_id}'. Review the documentation at "
    "https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service "
    "endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http "
    "to build a query request URL, such as "
    "'https://graph.microsoft.com/beta/applications/{client_id}'"
)
AADSTS700027_NO_KEY = _E(
    700027,
    "invalid_client",
    401,
    "Client assertion contains an invalid signature. [Reason - The key was not found., "
    "Thumbprint of key used by client: '{thumbprint}', " + _KEYS_HINT + "].",
)
AADSTS700027_BAD_SIGNATURE = _E(
    700027,
    "invalid_client",
    401,
    "Client assertion contains an invalid signature. [Reason - Key was found, but use of the "
    "key to verify the signature failed., Thumbprint of key used by client: '{thumbprint}', "
    "Found key 'Start={start}, End={end}', " + _KEYS_HINT + "].",
)
AADSTS700024 = _E(
    700024,
    "invalid_client",
    401,
    "Client assertion is not within its valid time range. Current time: {now}, assertion "
    "valid from {nbf}, expiry time of assertion {exp}. " + _CERT_DOC,
)
AADSTS700021 = _E(
    700021,
    "invalid_client",
    401,
    "Client assertion application identifier doesn't match 'client_id' parameter. " + _CERT_DOC,
)
AADSTS700023 = _E(
    700023,
    "invalid_client",
    401,
    "Client assertion audience claim does not match Realm issuer. " + _CERT_DOC,
)
AADSTS50027 = _E(50027, "invalid_request", 400, "JWT token is invalid or malformed.")
AADSTS90014_CREDENTIAL = _E(
    90014,
    "invalid_request",
    400,
    "The required field '{name}' is missing from the credential. Ensure that you have all the "
    "necessary parameters for the login request.",
)
AADSTS5002723 = _E(
    5002723,
    "invalid_client",
    401,
    "Invalid JWT token. No certificate SHA-1 thumbprint, certificate SHA-256 thumbprint, nor "
    "keyId specified in token header.",
)
AADSTS5002738 = _E(
    5002738,
    "invalid_client",
    401,
    "Invalid JWT token. '{alg}' is not a supported signature algorithm. Supported signing "
    "algorithms are: 'RS256,RS384,RS512'",
)
AADSTS5002741 = _E(
    5002741,
    "invalid_client",
    401,
    "Number of audience values in the provided client credential exceed maximum allowed. "
    "{count} audience values provided, maximum allowed is 1.",
)

# Workload identity federation (a `client_assertion` from another issuer, matched against the
# app's federated identity credentials): Entra's answers as quoted in public issues —
# 700211 Azure/azure-workload-identity#1350 (401), 700213 Azure/azure-workload-identity#1200,
# 7000272 Azure/azure-workload-identity#1232. 700212 (the audience) follows their pattern; no
# public capture of its text was found.
_FIC_DOC = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
AADSTS700211 = _E(
    700211,
    "invalid_client",
    401,
    "No matching federated identity record found for presented assertion issuer '{issuer}'. "
    "Please check your federated identity credential Subject, Audience and Issuer against the "
    "presented assertion. " + _FIC_DOC,
)
AADSTS700212 = _E(
    700212,
    "invalid_client",
    401,
    "No matching federated identity record found for presented assertion audience "
    "'{audience}'. Please check your federated identity credential Subject, Audience and "
    "Issuer against the presented assertion. " + _FIC_DOC,
)
AADSTS700213 = _E(
    700213,
    "invalid_client",
    401,
    "No matching federated identity record found for presented assertion subject '{subject}'. "
    "Check your federated identity credential Subject, Audience and Issuer against the "
    "presented assertion. " + _FIC_DOC,
)
AADSTS7000272 = _E(
    7000272,
    "invalid_client",
    401,
    "The certificate with identifier {kid} used to sign the federated credential could not be "
    "found in the metadata of identity provider {issuer}. Please validate that your Identity "
    "Provider's metadata exposes the key used to sign the incoming token.",
)
