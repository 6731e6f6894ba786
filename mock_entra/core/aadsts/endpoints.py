"""The authorize and token endpoints' own errors: the request (the tenant, the app, the
redirect URI, the parameters), the authorize endpoint's rules, the sign-in audience and the
single-page-application platform; then the grants (on-behalf-of, username and password, codes,
refresh tokens, PKCE, scopes, consent, the device code flow)."""

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

# -- on-behalf-of (Learn "Microsoft identity platform and OAuth 2.0 On-Behalf-Of flow"; the
# texts as captured in public issues) ---------------------------------------------------------
AADSTS50013 = _E(
    50013, "invalid_grant", 400, "Assertion failed signature validation. [Reason - {reason}]"
)
AADSTS50013_INVALID = _E(50013, "invalid_grant", 400, "Assertion is invalid. {reason}")
AADSTS500133 = _E(
    500133,
    "invalid_grant",
    400,
    "Assertion is not within its valid time range. Ensure that the access token is not expired "
    "before using it for user assertion, or request a new token. Current time: {now}, expiry "
    "time of assertion {exp}.",
)
AADSTS500131 = _E(
    500131,
    "invalid_grant",
    400,
    "Assertion audience does not match the Client app presenting the assertion. The audience "
    "in the assertion was '{aud}' and the expected audience is '{client_id}' or one of the "
    "Application Uris of this application with App ID '{client_id}'({app_name}). The downstream "
    "client must request a token for the expected audience (the application that made the OBO "
    "request) and this application should use that token as the assertion.",
)
AADSTS240002 = _E(
    240002,
    "invalid_grant",
    400,
    "Input id_token cannot be used as 'urn:ietf:params:oauth:grant-type:jwt-bearer' grant.",
)
# -- username/password (ROPC; Learn "Microsoft identity platform and OAuth 2.0 Resource Owner
# Password Credentials"; 50126 and 50034 as Entra answers them, the user's name hidden) -------
AADSTS50126 = _E(
    50126,
    "invalid_grant",
    400,
    "Error validating credentials due to invalid username or password.",
)
AADSTS50034 = _E(
    50034,
    "invalid_grant",
    400,
    "The user account {{EmailHidden}} does not exist in the {tenant_id} directory. To sign into "
    "this application, the account must be added to the directory.",
    # recorded: Azure/azure-sdk-for-js sdk/identity/identity/recordings/node/
    # environmentcredential/recording_finds_and_uses_client_usernamepassword_environment_variables.json
    suberror="bad_token",
)
AADSTS50057 = _E(
    50057,
    "invalid_grant",
    400,
    "The user account is disabled. The user object in Active Directory backing this account has "
    "been disabled. An admin can re-enable this account through PowerShell",
)
# Smart lockout (Learn, "Protect user accounts from attacks with Microsoft Entra smart lockout";
# 50053 "IdsLocked" in Learn's error-code reference), with the text Entra's token endpoint
# answers (AzureAD/microsoft-authentication-library-for-python#211).
AADSTS50053 = _E(
    50053,
    "invalid_grant",
    400,
    "The account is locked, you've tried to sign in too many times with an incorrect user ID or "
    "password.",
)
AADSTS9001023 = _E(
    9001023,
    "invalid_request",
    400,
    "The grant type is not supported over the /common or /consumers endpoints. Please use the "
    "/organizations or tenant-specific endpoint.",
)
AADSTS700025 = _E(
    700025,
    "invalid_client",
    401,
    "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
)
AADSTS70003 = _E(
    70003,
    "unsupported_grant_type",
    400,
    "The app requested an unsupported grant type '{grant_type}'.",
)
AADSTS70008 = _E(
    70008,
    "invalid_grant",
    400,
    "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
)
AADSTS700082 = _E(
    700082,
    "invalid_grant",
    400,
    "The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for {inactive}.",
)
AADSTS54005 = _E(
    54005,
    "invalid_grant",
    400,
    "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
)
AADSTS501481 = _E(
    501481,
    "invalid_grant",
    400,
    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
)
AADSTS501491 = _E(501491, "invalid_request", 400, "Invalid size of Code_Challenge parameter.")
AADSTS70000 = _E(70000, "invalid_grant", 400, "Provided grant is invalid or malformed. {detail}")
# A code redeemed with another redirect_uri than the authorize request's. Entra answered
# "AADSTS70002: Error validating credentials. AADSTS50011: The reply address ... does not match
# the reply address ... provided when requesting Authorization code." in 2018 captures; today's
# code is AADSTS500112 (Learn error-code reference; quoted by apps hitting it behind proxies,
# some with `invalid_client`).
AADSTS500112 = _E(
    500112,
    "invalid_client",
    401,
    "The reply address '{got}' does not match the reply address '{expected}' provided when requesting Authorization code.",
)
# A `claims` parameter that is not a JSON object of objects (Learn error-code reference).
AADSTS50117 = _E(
    50117,
    "invalid_request",
    400,
    "Failed to deserialize policy specified in the request's claim parameter.",
)
AADSTS9002313_GRANT = _E(
    9002313,
    "invalid_grant",
    400,
    "Invalid request. Request is malformed or invalid.",
    suberror="bad_token",
)
AADSTS70011 = _E(
    70011,
    "invalid_scope",
    400,
    "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.",
)
AADSTS28000 = _E(
    28000,
    "invalid_scope",
    400,
    "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid.",
)
AADSTS1002012 = _E(
    1002012,
    "invalid_scope",
    400,
    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
)
AADSTS500011 = _E(
    500011,
    "invalid_resource",
    400,
    "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
)
AADSTS65001 = _E(
    65001,
    "invalid_grant",
    400,
    "The user or administrator has not consented to use the application with ID '{client_id}' named '{app_name}'. Send an interactive authorization request for this user and resource.",
    suberror="consent_required",
)
AADSTS65001_AUTHORIZE = _E(65001, "consent_required", 400, AADSTS65001.message)
AADSTS65004 = _E(65004, "access_denied", 400, "User declined to consent to access the app.")
AADSTS50058 = _E(
    50058,
    "login_required",
    400,
    "A silent sign-in request was sent but no user is signed in. The cookies used to represent the user's session were not sent in the request to Azure AD. This can happen if the user is using Internet Explorer or Edge, and the web app sending the silent sign-in request is in different IE security zone than the Azure AD endpoint (login.microsoftonline.com).",
)
AADSTS16000 = _E(
    16000,
    "interaction_required",
    400,
    "SelectUserAccount - This is an interrupt thrown by Azure AD, which results in UI that allows the user to select from among multiple valid SSO sessions.",
)
AADSTS700054 = _E(
    700054,
    "unsupported_response_type",
    400,
    "response_type '{response_type}' is not enabled for the application.",
)

# Device code (Learn, "OAuth 2.0 device authorization grant": authorization_pending,
# authorization_declined, bad_verification_code, expired_token; the codes from Learn's
# error-code reference: 70016 AuthorizationPending, 70018 BadVerificationCode). An expired
# device code is 70020, not the reference's 70019 CodeExpired: the captured answers say so
# (https://github.com/Azure/azure-sdk-for-python/issues/32375,
# https://github.com/MicrosoftDocs/azure-docs/issues/92366).
AADSTS70016 = _E(
    70016,
    "authorization_pending",
    400,
    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
)
AADSTS70018 = _E(
    70018,
    "bad_verification_code",
    400,
    "Invalid verification code due to User typing in wrong user code for device code flow. Authorization is not approved.",
)
AADSTS70020 = _E(
    70020,
    "expired_token",
    400,
    "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
)
AADSTS65004_DEVICE = _E(
    65004, "authorization_declined", 400, "User declined to consent to access the app."
)
