"""Errors in the request itself: the tenant, the app, the redirect URI and the parameters;
the authorize endpoint's rules; the sign-in audience and the single-page-application
platform."""

from __future__ import annotations

from mock_entra.core.aadsts.entry import Aadsts

_E = Aadsts

AADSTS50011 = _E(
    50011,
    "invalid_request",
    400,
    "The redirect URI '{uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
    page_only=True,
)
AADSTS700016 = _E(
    700016,
    "unauthorized_client",
    400,
    "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
    page_only=True,
)
AADSTS90002 = _E(
    90002,
    "invalid_tenant",
    400,
    "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
    page_only=True,
)
AADSTS900971 = _E(900971, "invalid_request", 400, "No reply address provided.", page_only=True)
AADSTS900144 = _E(
    900144,
    "invalid_request",
    400,
    "The request body must contain the following parameter: '{name}'.",
)
AADSTS9002313 = _E(
    9002313, "invalid_request", 400, "Invalid request. Request is malformed or invalid."
)
AADSTS900561 = _E(
    900561,
    "invalid_request",
    400,
    "The endpoint only accepts {method} requests. Received a {received} request.",
)
AADSTS90100 = _E(90100, "invalid_request", 400, "{name} parameter is empty or not valid.")
AADSTS50089 = _E(
    50089,
    "invalid_request",
    400,
    "Authentication failed due to flow token expired.",
    page_only=True,
)

# An access token from the authorize endpoint (implicit grant) when the app has not enabled it
# (AzureAD/microsoft-authentication-library-for-js#766: unsupported_response_type).
AADSTS700051 = _E(
    700051,
    "unsupported_response_type",
    400,
    "response_type 'token' is not enabled for the application.",
)
AADSTS50049 = _E(50049, "invalid_instance", 400, "Unknown or invalid instance.")

# Sign-in audience (Learn, "Microsoft Entra authentication and authorization error codes";
# the messages as captured in public issues).
AADSTS50194 = _E(
    50194,
    "invalid_request",
    400,
    "Application '{client_id}'({app_name}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.",
)
AADSTS9002331 = _E(
    9002331,
    "invalid_request",
    400,
    "Application '{client_id}'({app_name}) is configured for use by Microsoft Account users only. Please use the /consumers endpoint to serve this request.",
)
AADSTS9002332 = _E(
    9002332,
    "invalid_request",
    400,
    "Application '{client_id}'({app_name}) is configured for use by Azure Active Directory users only. Please do not use the /consumers endpoint to serve this request.",
)

# The single-page-application platform (Learn, "Error codes"; messages as msal-browser
# users captured them).
AADSTS9002325 = _E(
    9002325,
    "invalid_request",
    400,
    "Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
)
AADSTS9002326 = _E(
    9002326,
    "invalid_request",
    400,
    "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '{origin}'.",
)
AADSTS9002327 = _E(
    9002327,
    "invalid_request",
    400,
    "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
)
AADSTS700084 = _E(
    700084,
    "invalid_grant",
    400,
    "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on {issued}.",
)
