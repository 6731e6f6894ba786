"""The browser's side of a sign-in: the authorize request, PKCE, the code, the device code,
consent and smart lockout."""
