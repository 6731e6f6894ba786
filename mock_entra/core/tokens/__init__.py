"""What a token says and how it is signed: claims, scopes and the signing keys."""
