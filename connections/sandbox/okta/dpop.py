"""DPoP (RFC 9449) as Okta's org authorization server and Management API check it.

The service app requires DPoP by default (`PUT /_sandbox/okta/app {"dpop": false}` turns it off,
like unticking "Require Demonstrating Proof of Possession (DPoP) header in token requests").
Token endpoint: no `DPoP` header → 400 `invalid_dpop_proof`; a proof without the current nonce →
400 `use_dpop_nonce` with a `DPoP-Nonce` header; a bad proof (typ, alg, jwk, signature, htm, htu,
iat, replayed jti) → 400 `invalid_dpop_proof`. The token answered is `token_type: DPoP`, bound to
the proof key's SHA-256 JWK thumbprint (`cnf.jkt`). API calls with a bound token need
`Authorization: DPoP <token>` and a new proof with `ath`; else 401 with `WWW-Authenticate: DPoP
error="invalid_dpop_proof"` (or `invalid_token` for a bound token sent as Bearer).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

import jwt

from connections.sandbox import auth
from connections.sandbox.okta.errors import okta_error
from connections.sandbox.web import Request, Resp, oauth_error

if TYPE_CHECKING:
    from connections.sandbox.app import App

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
IAT_WINDOW = 300  # seconds a proof's iat may be off from now
NONCE_MESSAGE = "Authorization server requires nonce in DPoP proof."
MISSING_MESSAGE = "The DPoP proof JWT header is missing."


class ProofError(Exception):
    """A DPoP proof the server refuses; the message says why."""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: dict) -> str:
    """RFC 7638 SHA-256 JWK thumbprint (the required members only, sorted, no spaces)."""
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}.get(str(jwk.get("kty")))
    if members is None or any(m not in jwk for m in members):
        raise ProofError("The DPoP proof's jwk is not an EC or RSA public key.")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64(hashlib.sha256(canonical.encode()).digest())


def current_nonce(app: App) -> str:
    with app.state.lock:
        if not app.state.dpop_nonce:
            app.state.dpop_nonce = secrets.token_urlsafe(24)
        return app.state.dpop_nonce


def verify(
    app: App, proof: str, method: str, urls: list[str], *, access_token: str | None = None
) -> tuple[dict, str]:
    """The proof's claims and key thumbprint; raises ProofError saying what is wrong."""
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.PyJWTError:
        raise ProofError("The DPoP proof is not a JWT.") from None
    if header.get("typ") != "dpop+jwt":
        raise ProofError("The DPoP proof's typ must be dpop+jwt.")
    if header.get("alg") not in ALGORITHMS:
        raise ProofError("The DPoP proof's alg must be an asymmetric algorithm.")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or "d" in jwk or "k" in jwk:
        raise ProofError("The DPoP proof's jwk must be a public key.")
    try:
        key = jwt.PyJWK(jwk, header["alg"]).key
        claims = jwt.decode(
            proof,
            key,
            algorithms=[header["alg"]],
            options={"require": ["iat", "jti", "htm", "htu"], "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise ProofError(f"The DPoP proof is invalid: {exc}.") from None
    if claims["htm"] != method:
        raise ProofError("The DPoP proof's htm does not match the request method.")
    if claims["htu"] not in urls:
        raise ProofError("The DPoP proof's htu does not match the request URL.")
    if not isinstance(claims["iat"], int | float) or abs(claims["iat"] - time.time()) > IAT_WINDOW:
        raise ProofError("The DPoP proof's iat is not recent.")
    if access_token is not None:
        expected = b64(hashlib.sha256(access_token.encode()).digest())
        if claims.get("ath") != expected:
            raise ProofError("The DPoP proof's ath does not match the access token.")
    if _replayed(app, str(claims["jti"])):
        raise ProofError("The DPoP proof's jti has already been used.")
    return claims, thumbprint(jwk)


def _replayed(app: App, jti: str) -> bool:
    """True when this jti was seen before; else remember it while its proof's iat could pass.

    Every proof is remembered for 2 × IAT_WINDOW from now, so the oldest entries are always at
    the front: forgetting them is O(1) per call, even under a benchmark's load.
    """
    now = time.time()
    seen, order = app.state.dpop_jtis, app.state.dpop_jti_order
    with app.state.lock:
        while order and order[0][0] < now:
            seen.discard(order.popleft()[1])
        if jti in seen:
            return True
        seen.add(jti)
        order.append((now + 2 * IAT_WINDOW, jti))
    return False


def token_binding(app: App, req: Request, token_url: str) -> dict | Resp:
    """At the token endpoint: {} (DPoP off), {"jkt": …} for a good proof, or Okta's 400."""
    if not app.state.okta_app["dpop"]:
        return {}
    proof = req.headers.get("dpop", "")
    if not proof:
        return oauth_error(400, "invalid_dpop_proof", MISSING_MESSAGE)
    urls = auth.token_urls(req, token_url)
    try:
        claims, jkt = verify(app, proof, "POST", urls)
    except ProofError as exc:
        return oauth_error(400, "invalid_dpop_proof", str(exc))
    nonce = current_nonce(app)
    if claims.get("nonce") != nonce:
        resp = oauth_error(400, "use_dpop_nonce", NONCE_MESSAGE)
        resp.headers["DPoP-Nonce"] = nonce
        return resp
    return {"jkt": jkt}


def api_refusal(description: str, error: str = "invalid_dpop_proof") -> Resp:
    resp = okta_error(401, "E0000011", "Invalid token provided")
    resp.headers["WWW-Authenticate"] = f'DPoP error="{error}", error_description="{description}"'
    return resp


def check_api_call(app: App, req: Request, scheme: str, token: str, info: dict) -> Resp | None:
    """A DPoP-bound token needs the DPoP scheme and a good proof for this very request."""
    if "jkt" not in info:
        return None if scheme == "bearer" else api_refusal("The access token is not DPoP-bound.")
    if scheme != "dpop":
        return api_refusal("A DPoP-bound access token must use the DPoP scheme.", "invalid_token")
    proof = req.headers.get("dpop", "")
    if not proof:
        return api_refusal(MISSING_MESSAGE)
    path = req.raw_path.split("?")[0]
    urls = [f"http://{req.headers.get('host', '')}{path}", f"{req.base_url}{path}"]
    try:
        _, jkt = verify(app, proof, req.method, urls, access_token=token)
    except ProofError as exc:
        return api_refusal(str(exc))
    if jkt != info["jkt"]:
        return api_refusal("The DPoP proof's key is not the one the token is bound to.")
    return None


def bound_token_fields(binding: dict[str, Any]) -> dict[str, Any]:
    return {"jkt": binding["jkt"]} if binding else {}
