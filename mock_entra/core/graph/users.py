"""Users and groups as Graph's JSON: every `microsoft.graph.user` property a client may
`$select`, the default set, the basic set `User.ReadBasic.All` may read, and groups as
`directoryObject`s.

Learn: "user resource type" (v1.0: the property list, which ones are returned by default),
"Get user" / "List users" (default set: businessPhones, displayName, givenName, id, jobTitle,
mail, mobilePhone, officeLocation, preferredLanguage, surname, userPrincipalName; a property
that is not set is `null`), "Microsoft Graph permissions reference" (User.ReadBasic.All: the
basic profile is displayName, givenName, id, mail, photo, securityIdentifier, surname,
userPrincipalName), "group resource type".
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Mapping
from typing import Any

from mock_entra.core.config import PERSONAL_TENANT_ID, Group, Tenant, TestUser

USER_TYPE = "microsoft.graph.user"
GROUP_TYPE = "microsoft.graph.group"

# GET /users/{id} and GET /users without $select, in the order Graph serves them.
DEFAULT_PROPERTIES = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
# What User.ReadBasic.All lets an app read of other users; the rest comes back `null`.
BASIC_PROPERTIES = frozenset(
    {"displayName", "givenName", "id", "mail", "securityIdentifier", "surname", "userPrincipalName"}
)
# Collections are `[]`, never `null`, when empty.
_COLLECTIONS = frozenset(
    {
        "assignedLicenses",
        "assignedPlans",
        "businessPhones",
        "identities",
        "imAddresses",
        "interests",
        "licenseAssignmentStates",
        "onPremisesProvisioningErrors",
        "otherMails",
        "pastProjects",
        "provisionedPlans",
        "proxyAddresses",
        "responsibilities",
        "schools",
        "serviceProvisioningErrors",
        "skills",
    }
)
# Every v1.0 user property ($select-able); the ones the mock does not model are `null`/`[]`.
USER_PROPERTIES = (
    "id",
    "deletedDateTime",
    "aboutMe",
    "accountEnabled",
    "ageGroup",
    "assignedLicenses",
    "assignedPlans",
    "birthday",
    "businessPhones",
    "city",
    "companyName",
    "consentProvidedForMinor",
    "country",
    "createdDateTime",
    "creationType",
    "department",
    "displayName",
    "employeeHireDate",
    "employeeId",
    "employeeLeaveDateTime",
    "employeeOrgData",
    "employeeType",
    "externalUserState",
    "externalUserStateChangeDateTime",
    "faxNumber",
    "givenName",
    "hireDate",
    "identities",
    "imAddresses",
    "interests",
    "isManagementRestricted",
    "isResourceAccount",
    "jobTitle",
    "lastPasswordChangeDateTime",
    "legalAgeGroupClassification",
    "licenseAssignmentStates",
    "mail",
    "mailNickname",
    "mobilePhone",
    "mySite",
    "officeLocation",
    "onPremisesDistinguishedName",
    "onPremisesDomainName",
    "onPremisesExtensionAttributes",
    "onPremisesImmutableId",
    "onPremisesLastSyncDateTime",
    "onPremisesProvisioningErrors",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "onPremisesUserPrincipalName",
    "otherMails",
    "passwordPolicies",
    "passwordProfile",
    "pastProjects",
    "postalCode",
    "preferredDataLocation",
    "preferredLanguage",
    "preferredName",
    "provisionedPlans",
    "proxyAddresses",
    "responsibilities",
    "schools",
    "securityIdentifier",
    "serviceProvisioningErrors",
    "showInAddressList",
    "signInSessionsValidFromDateTime",
    "skills",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
)
USER_PROPERTY_NAMES = {p.lower(): p for p in USER_PROPERTIES}

# The group properties a directoryObject collection (memberOf) returns, in Graph's order.
GROUP_PROPERTIES = (
    "id",
    "deletedDateTime",
    "classification",
    "createdDateTime",
    "creationOptions",
    "description",
    "displayName",
    "expirationDateTime",
    "groupTypes",
    "isAssignableToRole",
    "mail",
    "mailEnabled",
    "mailNickname",
    "membershipRule",
    "membershipRuleProcessingState",
    "onPremisesDomainName",
    "onPremisesLastSyncDateTime",
    "onPremisesNetBiosName",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "preferredDataLocation",
    "preferredLanguage",
    "proxyAddresses",
    "renewedDateTime",
    "resourceBehaviorOptions",
    "resourceProvisioningOptions",
    "securityEnabled",
    "securityIdentifier",
    "theme",
    "visibility",
    "onPremisesProvisioningErrors",
    "serviceProvisioningErrors",
)
GROUP_PROPERTY_NAMES = {p.lower(): p for p in GROUP_PROPERTIES}
_GROUP_COLLECTIONS = frozenset(
    {
        "creationOptions",
        "groupTypes",
        "proxyAddresses",
        "resourceBehaviorOptions",
        "resourceProvisioningOptions",
        "onPremisesProvisioningErrors",
        "serviceProvisioningErrors",
    }
)


def security_identifier(object_id: str) -> str:
    """The SID Entra derives from an object id: S-1-12-1- and the GUID's four 32-bit words."""
    try:
        words = struct.unpack("<IIII", uuid.UUID(object_id).bytes_le)
    except ValueError:
        return ""
    return "S-1-12-1-" + "-".join(str(w) for w in words)


def personal_id(object_id: str) -> str | None:
    """A personal Microsoft account's Graph `id`: its 16-hex CID, which its tokens' `oid`
    carries as `00000000-0000-0000-<CID>` (MSAL.NET's TryConvertCidToGuid:
    AzureAD/microsoft-authentication-library-for-dotnet@333da9ca3edb011276f9e96b0f04c1f75c64a0e3:
    src/client/Microsoft.Identity.Client/Platforms/Features/WamBroker/MsaPlugin.cs). None: not
    of that form."""
    head, _, cid = object_id.lower().partition("00000000-0000-0000-")
    cid = cid.replace("-", "")
    return cid if not head and len(cid) == 16 else None


def user_values(user: TestUser, tenant: Tenant) -> dict[str, Any]:
    """Every user property with its value (`null` or `[]` when the mock has none). A personal
    Microsoft account is named by its CID and has no `mail`, as Graph answers `/me` for one
    (OfficeDev/outlook-dev-docs#918, O365/python-o365#508: `"id": "fde926f844473904"`,
    `"mail": null`; `userPrincipalName` is the address)."""
    domain = tenant.domains[0] if tenant.domains else user.username.partition("@")[2]
    personal = personal_id(user.object_id) if tenant.tenant_id == PERSONAL_TENANT_ID else None
    known: Mapping[str, Any] = {
        "id": personal or user.object_id,
        "accountEnabled": user.account_enabled,
        "businessPhones": list(user.business_phones),
        "city": user.city,
        "companyName": user.company_name,
        "country": user.country,
        "createdDateTime": user.created_date_time,
        "creationType": None,
        "department": user.department,
        "displayName": user.display_name,
        "employeeId": user.employee_id,
        "employeeType": user.employee_type,
        "faxNumber": user.fax_number,
        "givenName": user.given_name,
        "identities": [
            {
                "signInType": "userPrincipalName",
                "issuer": domain,
                "issuerAssignedId": user.username,
            }
        ],
        "imAddresses": list(user.im_addresses),
        "jobTitle": user.job_title,
        "mail": None if personal else user.mail,
        "mailNickname": user.mail_nickname or user.username.partition("@")[0],
        "mobilePhone": user.mobile_phone,
        "officeLocation": user.office_location,
        "onPremisesImmutableId": user.on_premises_immutable_id,
        "onPremisesSamAccountName": user.on_premises_sam_account_name,
        "onPremisesSyncEnabled": user.on_premises_sync_enabled,
        "otherMails": list(user.other_mails),
        "postalCode": user.postal_code,
        "preferredLanguage": user.preferred_language,
        "proxyAddresses": list(user.proxy_addresses),
        "securityIdentifier": security_identifier(user.object_id),
        "state": user.state,
        "streetAddress": user.street_address,
        "surname": user.surname,
        "usageLocation": user.usage_location,
        "userPrincipalName": user.username,
        "userType": user.user_type,
    }
    return {name: known.get(name, [] if name in _COLLECTIONS else None) for name in USER_PROPERTIES}


def user_object(
    user: TestUser, tenant: Tenant, select: tuple[str, ...], *, basic_only: bool = False
) -> dict[str, Any]:
    """The user's JSON with the `select`ed properties, in that order. `basic_only`: the caller
    holds User.ReadBasic.All only, so the other properties read as `null` (or `[]`)."""
    values = user_values(user, tenant)
    body = {}
    for name in select:
        if basic_only and name not in BASIC_PROPERTIES:
            body[name] = [] if name in _COLLECTIONS else None
        else:
            body[name] = values[name]
    return body


def group_values(group: Group) -> dict[str, Any]:
    known: Mapping[str, Any] = {
        "id": group.object_id,
        "description": group.description,
        "displayName": group.display_name,
        "groupTypes": [],
        "mail": group.mail,
        "mailEnabled": group.mail_enabled,
        "mailNickname": (group.mail or "").partition("@")[0] or None,
        "securityEnabled": group.security_enabled,
        "securityIdentifier": security_identifier(group.object_id),
        "visibility": None,
    }
    return {
        name: known.get(name, [] if name in _GROUP_COLLECTIONS else None)
        for name in GROUP_PROPERTIES
    }


def unknown_group(object_id: str) -> Group:
    """A group a user lists but the tenant does not define (e.g. generated ids for overage)."""
    return Group(object_id=object_id, display_name=f"Group {object_id[:8]}")


def group_object(
    group: Group, select: tuple[str, ...] | None, *, limited: bool = False
) -> dict[str, Any]:
    """A group as an item of a directoryObject collection. `limited`: the caller may not read
    groups, so only `@odata.type` and `id` carry values and the rest reads `null` (Learn,
    "List a user's direct memberships": members of a type the app may not read are returned
    "with limited information")."""
    values = group_values(group)
    names = select or GROUP_PROPERTIES
    body: dict[str, Any] = {"@odata.type": f"#{GROUP_TYPE}"}
    for name in names:
        if limited and name != "id":
            body[name] = [] if name in _GROUP_COLLECTIONS else None
        else:
            body[name] = values[name]
    return body
