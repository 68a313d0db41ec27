"""The service's OpenAPI document, completed with what FastAPI cannot see in the routes.

FastAPI describes what the routes declare: it knew nothing of how a client signs in (the
accounts are checked by a dependency of ours), described every error as its own
`HTTPValidationError` (`{"detail": [...]}`) although every error is `{error, message, fix}`,
listed none of 400/403/404/409, and gave the enrollment's certificate as JSON only (its default
is a PEM chain, or PKCS#7). OCSP, CRL and certificate answers had no media type. Here the
document FastAPI made is completed once, from the same constants the service answers with.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message", "fix"],
    "properties": {
        "error": {
            "type": "string",
            "description": "a code: request.invalid, request.malformed, policy.namespace, "
            "auth.failed, auth.forbidden, not_found, conflict, ...",
        },
        "message": {"type": "string", "description": "what was wrong, in plain words"},
        "fix": {"type": "string", "description": "what to do about it"},
        "refusals": {
            "type": "array",
            "description": "a policy refusal (422): every reason, each with its own fix",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fix": {"type": "string"},
                },
            },
        },
    },
}

# What each status of an API call means, for the calls that can answer it
API_ERRORS = {
    "400": "Not a request the CA can read (not PKCS#10, an unknown template or query "
    "parameter, malformed HTTP)",
    "401": "No or wrong CA account credentials (WWW-Authenticate: Basic)",
    "403": "The account's role may not do this, or it is a manager's own request",
    "404": "No such request or certificate (a requester sees only its own)",
    "409": "The request or certificate is not in a state for this (decided, revoked), or the "
    "CA cannot sign now",
    "413": "The body is larger than 1 MiB",
    "422": "Refused by policy (every reason listed), or a JSON body with a field this call "
    "does not take",
    "429": "Too many failed sign-ins: wait a minute (Retry-After)",
    "503": "The CA's database cannot be reached, or holds no CA (Retry-After)",
}
OTHER_ERRORS = {  # by path prefix; an OCSP refusal is itself an OCSP response (200)
    "/crl/": {"404": "Not published here"},
    "/aia/": {"404": "Not published here"},
    "/ocsp": {"413": "The body is larger than 1 MiB"},
    "/health": {"503": API_ERRORS["503"] + "; or the CA's own certificate is revoked"},
}

SECURITY_SCHEMES = {
    "basic": {
        "type": "http",
        "scheme": "basic",
        "description": "A CA account and its password (lyncpki ca account add NAME --role ...)",
    },
    "clientCertificate": {
        "type": "mutualTLS",
        "description": "With ca serve --tls: a client certificate this CA issued, whose "
        "subject CN or DNS name is a CA account's name",
    },
}

ISSUED_JSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["issued"]},
        "request_id": {"type": "integer"},
        "serial": {"type": "string", "description": "hexadecimal"},
        "template": {"type": "string"},
        "certificate": {"type": "string", "description": "PEM"},
        "chain": {"type": "array", "items": {"type": "string"}, "description": "PEM, up"},
    },
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _binary(media_type: str) -> dict[str, Any]:
    return {media_type: {"schema": {"type": "string", "format": "binary"}}}


def _other_errors(path: str) -> dict[str, str]:
    return next((e for prefix, e in OTHER_ERRORS.items() if path.startswith(prefix)), {})


def complete(
    document: dict[str, Any], *, pem_chain: str, pkcs7: str, ocsp_request: str, ocsp_response: str
) -> dict[str, Any]:
    """`document` (FastAPI's) completed in place, and returned."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Error"] = ERROR_SCHEMA
    schemas["Issued"] = ISSUED_JSON
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            api = path.startswith("/api/")
            errors = API_ERRORS if api else _other_errors(path)
            responses.pop("422", None)  # FastAPI's HTTPValidationError: never answered
            for status, description in errors.items():
                given = responses.get(status, {}).get("description")
                responses[status] = _error_response(given or description)
            if api:
                operation["security"] = [{"basic": []}, {"clientCertificate": []}]
            if (path, method) in (
                ("/api/v1/enroll", "post"),
                ("/api/v1/requests/{request_id}/approve", "post"),
            ):
                issued = responses.setdefault("200", {"description": "Issued"})
                issued["content"] = {
                    pem_chain: {
                        "schema": {"type": "string"},
                        "description": "the default: the certificate, then the CA's above it",
                    },
                    **_binary(pkcs7),
                    "application/json": {"schema": {"$ref": "#/components/schemas/Issued"}},
                }
            elif (path, method) == ("/api/v1/requests/{request_id}", "get"):
                responses["200"] = {
                    "description": "The request's status (JSON); once issued, its certificate "
                    "as a PEM chain or PKCS#7 when the Accept header prefers one",
                    "content": {
                        "application/json": {"schema": {"type": "object"}},
                        pem_chain: {"schema": {"type": "string"}},
                        **_binary(pkcs7),
                    },
                }
            elif path == "/ocsp" and method == "post":
                operation["requestBody"] = {"required": True, "content": _binary(ocsp_request)}
                responses["200"] = {
                    "description": "An OCSP response",
                    "content": _binary(ocsp_response),
                }
            elif path.startswith("/ocsp/"):
                responses["200"] = {
                    "description": "An OCSP response",
                    "content": _binary(ocsp_response),
                }
            elif path.startswith("/crl/"):
                responses["200"] = {
                    "description": "A CRL (DER)",
                    "content": _binary("application/pkix-crl"),
                }
                responses["304"] = {"description": "Not modified since (ETag, Last-Modified)"}
            elif path.startswith("/aia/"):
                responses["200"] = {
                    "description": "A CA certificate (DER)",
                    "content": _binary("application/pkix-cert"),
                }
                responses["304"] = {"description": "Not modified since (ETag, Last-Modified)"}
    return document


__all__ = ["complete"]
