"""Answers of a misbehaving Entra, raised only by fault scenarios (`core.faults`)."""

from __future__ import annotations

from mock_entra.core.aadsts.entry import Aadsts

_E = Aadsts

# Answers of a misbehaving Entra, raised only by fault scenarios (`faults`); Learn,
# "Microsoft Entra authentication and authorization error codes".
AADSTS50173 = _E(
    50173,
    "invalid_grant",
    400,
    "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '{issued}' and the TokensValidFrom date (before which tokens are not valid) for this user is '{valid_from}'.",
    # recorded: Azure/azure-sdk-for-python sdk/identity/azure-identity/tests/recordings/
    # test_cae.test_username_password.yaml
    suberror="bad_token",
)
AADSTS50076 = _E(
    50076,
    "interaction_required",
    400,
    "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{resource}'.",
)
AADSTS50000 = _E(
    50000,
    "server_error",
    500,
    "There was an error issuing a token or an issue with our sign-in service.",
)
AADSTS90033 = _E(
    90033, "temporarily_unavailable", 503, "A transient error has occurred. Please try again."
)
AADSTS90055 = _E(
    90055,
    "temporarily_unavailable",
    429,
    "There are too many incoming requests. Please try again later.",
)
