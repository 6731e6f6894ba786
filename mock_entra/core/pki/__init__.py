"""The state dir's key material: the local CA, the TLS certificate and the signing key pairs."""
