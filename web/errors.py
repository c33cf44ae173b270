"""JSON errors for the API: ``{"error": {"code", "message"}}`` with a 4xx/5xx status."""

from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException


def json_error(code: str, message: str, status: int):  # noqa: ANN201 - Flask response tuple
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = status
    return resp


_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    413: "file_too_large", 415: "unsupported_media_type", 429: "too_many_requests",
}


def http_error_to_json(exc: HTTPException):  # noqa: ANN201
    status = exc.code or 500
    message = exc.description or exc.name
    if status == 413:
        message = "request too large: the upload limit is set by PROVSCAN_MAX_UPLOAD_MB"
    return json_error(_CODES.get(status, "error"), message, status)
