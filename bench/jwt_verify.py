"""Bearer JWT verification cost: ``JwtVerifier.verify`` per token, µs, by algorithm.

  * first sight: a token the verifier has not seen (the token cache misses): the signature and
    the claims are checked, the principal built;
  * seen before: the same token again within its minute in the token cache;
  * a bad signature (refused): the cost an attacker can make us pay per request.

Peer in the same run: pyjwt's ``jwt.decode`` of the same tokens with the same key and checks
(the floor: Caxton adds the key choice, the claim reading and the principal).

    python bench/jwt_verify.py [--quick] [--n N]
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import _common as c

SECRET = b"bench-secret-bench-secret-bench-secret"


def keys() -> dict[str, tuple[Any, Any]]:
    """alg -> (signing key, verifying key)"""
    r = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    e = ed25519.Ed25519PrivateKey.generate()
    p = ec.generate_private_key(ec.SECP256R1())
    return {"HS256": (SECRET, SECRET), "RS256": (r, r.public_key()),
            "EdDSA": (e, e.public_key()), "ES256": (p, p.public_key())}


def verifier_for(alg: str, public: Any, folder: Path, cache: int) -> Any:
    from caxton.security.jwt_tokens import JwtSettings, JwtVerifier  # noqa: PLC0415

    if alg == "HS256":
        return JwtVerifier(JwtSettings(hs256_secret=SECRET, audience="bench",
                                       token_cache_size=cache))
    path = folder / f"{alg}.pem"
    path.write_bytes(public.public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    return JwtVerifier(JwtSettings(public_key_files=(path,), audience="bench",
                                   token_cache_size=cache))


def timed(fn: Any, items: list[Any]) -> list[float]:
    clock = time.perf_counter_ns
    out = []
    for item in items:
        t0 = clock()
        fn(item)
        out.append((clock() - t0) / 1000)
    return out


def main() -> None:
    p = c.parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=0, help="tokens per measurement")
    args = p.parse_args()
    n = args.n or (300 if args.quick else 3000)
    c.header("JWT verify, µs per token", args)
    rows = []
    with tempfile.TemporaryDirectory(prefix="caxton-bench-jwt-") as tmp:
        for alg, (signing, public) in keys().items():
            exp = int(time.time()) + 3600
            tokens = [jwt.encode({"sub": f"user-{i}", "exp": exp, "aud": "bench",
                                  "caxton_role": "developer", "jti": str(i)}, signing,
                                 algorithm=alg) for i in range(n)]
            forged = [t[:-6] + ("AAAAAA" if not t.endswith("AAAAAA") else "BBBBBB")
                      for t in tokens]
            uncached = verifier_for(alg, public, Path(tmp), cache=0)
            cached = verifier_for(alg, public, Path(tmp), cache=n)
            for t in tokens:
                cached.verify(t)

            def refused(token: str, v: Any = uncached) -> None:
                with contextlib.suppress(Exception):  # the refusal is what is timed
                    v.verify(token)

            peer = c.summary(timed(lambda t, k=public, a=alg: jwt.decode(
                t, k, algorithms=[a], audience="bench", leeway=30,
                options={"require": ["exp", "sub"]}), tokens))
            first = c.summary(timed(uncached.verify, tokens))
            seen = c.summary(timed(cached.verify, tokens))
            bad = c.summary(timed(refused, forged))
            rows.append([alg, first["p50"], first["p99"], seen["p50"], bad["p50"], peer["p50"],
                         c.ratio(first["p50"], peer["p50"])])
    c.table(["alg", "first sight p50", "p99", "seen before p50", "bad signature p50",
             "pyjwt decode p50 (peer)", "first / peer"], rows)


if __name__ == "__main__":
    main()
