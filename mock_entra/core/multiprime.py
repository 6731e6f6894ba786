"""RS256 signing with a four-prime RSA-2048 key (RFC 8017 §3.2), on GMP.

Signing is the token endpoint's main cost. Clients only ever see the public key (n, e) and
standard RSASSA-PKCS1-v1_5 SHA-256 signatures, which are the same whatever the number of
primes behind n; with four 512-bit primes the private operation is four small
exponentiations instead of two large ones, ~2.5x faster than OpenSSL's two-prime RSA-2048
here. cryptography (OpenSSL) refuses multi-prime keys, so the private operation runs on
gmpy2. It is not constant-time: these are a local mock's throwaway test keys.

Keys are kept as a private JWK, multi-prime members in `oth` (RFC 7518 §6.3.2.7).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gmpy2
from gmpy2 import mpz

from mock_entra.core.b64 import b64url, b64url_decode

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

E = 65537
BITS = 2048
PRIMES = 4
# DER prefix of DigestInfo for SHA-256 (RFC 8017 §9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _int(value: Any) -> str:
    number = int(value)
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


def _from(member: str) -> mpz:
    return mpz(int.from_bytes(b64url_decode(member), "big"))


@dataclass(frozen=True)
class MultiPrimeKey:
    n: mpz
    d: mpz
    primes: tuple[mpz, ...]
    exponents: tuple[mpz, ...]  # d mod (r_i - 1)
    coefficients: tuple[mpz, ...]  # qInv, then t_i for i >= 3 (RFC 8017 §3.2)

    @classmethod
    def generate(cls, bits: int = BITS, count: int = PRIMES) -> MultiPrimeKey:
        sizes = [bits // count + (i < bits % count) for i in range(count)]
        while True:
            primes: list[mpz] = []
            while len(primes) < count:
                # The top two bits set keep the product close to `bits` long.
                size = sizes[len(primes)]
                candidate = gmpy2.next_prime(mpz(secrets.randbits(size)) | (mpz(3) << (size - 2)))
                if gmpy2.gcd(E, candidate - 1) == 1 and candidate not in primes:
                    primes.append(candidate)
            n = mpz(1)
            for prime in primes:
                n *= prime
            if n.bit_length() == bits:
                return cls.from_primes(primes)

    @classmethod
    def from_primes(cls, primes: list[mpz]) -> MultiPrimeKey:
        n, lam = mpz(1), mpz(1)
        for prime in primes:
            n *= prime
            lam = gmpy2.lcm(lam, prime - 1)
        d = gmpy2.invert(E, lam)
        exponents = tuple(d % (prime - 1) for prime in primes)
        coefficients = [gmpy2.invert(primes[1], primes[0])]
        product = primes[0] * primes[1]
        for prime in primes[2:]:
            coefficients.append(gmpy2.invert(product, prime))
            product *= prime
        return cls(n, d, tuple(primes), exponents, tuple(coefficients))

    # -- signing ---------------------------------------------------------------------------

    def sign(self, data: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.1), the JWS `RS256` signature."""
        k = (self.n.bit_length() + 7) // 8
        return int(self._private(self._encoded(data, k))).to_bytes(k, "big")

    @staticmethod
    def _encoded(data: bytes, k: int) -> mpz:
        """EMSA-PKCS1-v1_5 (RFC 8017 §9.2) as an integer."""
        digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(data).digest()
        encoded = b"\x00\x01" + b"\xff" * (k - len(digest_info) - 3) + b"\x00" + digest_info
        return mpz(int.from_bytes(encoded, "big"))

    def _private(self, m: mpz) -> mpz:
        r, d, c = self.primes, self.exponents, self.coefficients
        # RSASP1 with the CRT, as RFC 8017 §5.1.2 step 2b.
        m1, m2 = gmpy2.powmod(m, d[0], r[0]), gmpy2.powmod(m, d[1], r[1])
        s = m2 + r[1] * ((m1 - m2) * c[0] % r[0])
        product = r[0] * r[1]
        for prime, exponent, t in zip(r[2:], d[2:], c[1:], strict=True):
            mi = gmpy2.powmod(m, exponent, prime)
            s += product * ((mi - s) * t % prime)
            product *= prime
        return s

    def public_key(self) -> rsa.RSAPublicKey:
        from cryptography.hazmat.primitives.asymmetric import rsa

        return rsa.RSAPublicNumbers(E, int(self.n)).public_key()

    def check(self) -> None:
        """Sign once and undo it with the public exponent: a corrupt key fails at load, not
        in a client (the tests verify signatures with OpenSSL)."""
        k = (self.n.bit_length() + 7) // 8
        m = self._encoded(b"mock-entra signing key self-test", k)
        if gmpy2.powmod(self._private(m), E, self.n) != m:
            raise ValueError("the signing key does not verify its own signature")

    # -- storage ---------------------------------------------------------------------------

    def to_jwk(self) -> dict[str, Any]:
        r, d, c = self.primes, self.exponents, self.coefficients
        return {
            "kty": "RSA",
            "n": _int(self.n),
            "e": _int(E),
            "d": _int(self.d),
            "p": _int(r[0]),
            "q": _int(r[1]),
            "dp": _int(d[0]),
            "dq": _int(d[1]),
            "qi": _int(c[0]),
            "oth": [
                {"r": _int(prime), "d": _int(exponent), "t": _int(t)}
                for prime, exponent, t in zip(r[2:], d[2:], c[1:], strict=True)
            ],
        }

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> MultiPrimeKey:
        if jwk.get("kty") != "RSA" or _from(jwk["e"]) != E:
            raise ValueError("not an RSA key with e = 65537")
        primes = [_from(jwk["p"]), _from(jwk["q"]), *(_from(o["r"]) for o in jwk.get("oth", []))]
        key = cls.from_primes(primes)
        if key.n != _from(jwk["n"]):
            raise ValueError("the primes do not multiply to n")
        return key
