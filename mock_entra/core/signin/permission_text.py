"""What a user reads on the consent page for Microsoft Graph's delegated permissions: each
permission's user consent display name and description, as Graph's service principal
publishes them (`oauth2PermissionScopes[].userConsentDisplayName` / `userConsentDescription`).

Source: a snapshot of Graph's service principal (trailing spaces trimmed),
adamedx/autographps-sdk@44cd725017717ad12f2aebfeb48f852ea986c513:
src/common/DefaultScopeData.ps1. Learn quotes User.Read's, "Sign you in and read your
profile" (https://learn.microsoft.com/entra/identity-platform/consent-types-developer). Learn's
permissions reference (https://learn.microsoft.com/graph/permissions-reference) lists the
admin consent strings ("Sign in and read user profile"), which Entra shows an administrator.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PermissionText:
    display_name: str
    description: str


GRAPH_USER_CONSENT: dict[str, PermissionText] = {
    "openid": PermissionText(
        "Sign in as you",
        "Allows you to sign in to the app with your work or school account and allows the app "
        "to read your basic profile information.",
    ),
    "profile": PermissionText(
        "View your basic profile",
        "Allows the app to see your basic profile (e.g., name, picture, user name, email address)",
    ),
    "email": PermissionText(
        "View your email address", "Allows the app to read your primary email address"
    ),
    "offline_access": PermissionText(
        "Maintain access to data you have given it access to",
        "Allows the app to see and update the data you gave it access to, even when you are "
        "not currently using the app. This does not give the app any additional permissions.",
    ),
    "User.Read": PermissionText(
        "Sign you in and read your profile",
        "Allows you to sign in to the app with your organizational account and let the app "
        "read your profile. It also allows the app to read basic company information.",
    ),
    "User.ReadBasic.All": PermissionText(
        "Read all users' basic profiles",
        "Allows the app to read a basic set of profile properties of other users in your "
        "organization on your behalf. Includes display name, first and last name, email "
        "address and photo.",
    ),
    "User.Read.All": PermissionText(
        "Read all users' full profiles",
        "Allows the app to read the full set of profile properties, reports, and managers of "
        "other users in your organization, on your behalf.",
    ),
    "User.ReadWrite": PermissionText(
        "Read and update your profile",
        "Allows the app to read your profile, and discover your group membership, reports and "
        "manager. It also allows the app to update your profile information on your behalf.",
    ),
    "Directory.Read.All": PermissionText(
        "Read directory data", "Allows the app to read data in your organization's directory."
    ),
    "Mail.Read": PermissionText("Read your mail", "Allows the app to read email in your mailbox."),
    "Mail.Send": PermissionText("Send mail as you", "Allows the app to send mail as you."),
    "Calendars.Read": PermissionText(
        "Read your calendars", "Allows the app to read events in your calendars."
    ),
    "Files.Read": PermissionText("Read your files", "Allows the app to read your files."),
    "Group.Read.All": PermissionText(
        "Read all groups",
        "Allows the app to list groups, and to read their properties and all group memberships "
        "on your behalf. Also allows the app to read calendar, conversations, files, and other "
        "group content for all groups you can access.",
    ),
    "GroupMember.Read.All": PermissionText(
        "Read group memberships",
        "Allows the app to list groups, read basic group properties and read membership of all "
        "your groups.",
    ),
    "People.Read": PermissionText(
        "Read your relevant people list",
        "Allows the app to read a list of people in the order that's most relevant to you. "
        "This includes your local contacts, your contacts from social networking, people "
        "listed in your organization's directory, and people from recent communications.",
    ),
}
