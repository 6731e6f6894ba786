"""Page objects: one for Entra's sign-in pages (mock and real), and the client app's pages."""

from conformance.pages.app import AppErrorPage, HomePage, ProfilePage
from conformance.pages.entra_signin import EntraSignInPage, SignInFailed

__all__ = ["AppErrorPage", "EntraSignInPage", "HomePage", "ProfilePage", "SignInFailed"]
