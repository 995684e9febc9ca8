"""The REST API at /api/v1/ (django-ninja): tokens with scopes, problem+json errors, per-token rate
limits, idempotent creates. Mounted from portal/urls.py with `offboarding.api.app.urlpatterns()`.

Endpoints live in `people` and `requests`, schemas in `schemas`, the bearer check and rate limit in
`auth`, the errors in `problems`, Idempotency-Key in `idempotency`.
"""
