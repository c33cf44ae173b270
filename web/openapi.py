"""The OpenAPI 3.1 document for /api/v1 (schemas are JSON Schema 2020-12, so tests validate
real responses against them directly)."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}

FINDING = {
    "type": "object",
    "required": ["name", "version", "score", "status", "evidence"],
    "properties": {
        "name": {"type": "string"},
        "version": {"type": "string"},
        "score": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "status": {"enum": ["ok", "error", "skipped"]},
        "evidence": {"type": "object"},
    },
}

WATERMARK = {
    "type": "object",
    "required": ["scheme", "detected", "score", "payload"],
    "properties": {
        "scheme": {"type": "string"},
        "detected": {"type": "boolean"},
        "score": {"type": "number"},
        "payload": {"type": ["string", "null"]},
        "p_value": {"type": ["number", "null"]},
        "evidence": {"type": "object"},
    },
}

C2PA = {
    "type": "object",
    "required": ["present", "state", "failures", "signer", "digital_source_type", "claim_generator", "remote_url", "error"],
    "properties": {
        "present": {"type": "boolean"},
        "state": {"enum": ["Trusted", "Valid", "Invalid", None]},
        "failures": {"type": "array", "items": {"type": "string"}},
        "signer": {"type": ["string", "null"]},
        "digital_source_type": {"type": ["string", "null"]},
        "claim_generator": {"type": "array", "items": {"type": "string"}},
        "remote_url": {"type": ["string", "null"]},
        "error": {"type": ["string", "null"]},
        "explanation": {"type": ["string", "null"]},
    },
}

REVIEW = {
    "type": "object",
    "required": ["id", "scan_id", "decision", "note", "reviewer", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "scan_id": {"type": "string"},
        "decision": {"enum": ["synthetic", "authentic", "partially_synthetic", "unsure"]},
        "note": {"type": ["string", "null"]},
        "reviewer": {"type": "string"},
        "created_at": {"type": "string"},
    },
}

REVIEW_REQUEST = {
    "type": "object",
    "required": ["decision"],
    "additionalProperties": False,
    "properties": {
        "decision": {"enum": ["synthetic", "authentic", "partially_synthetic", "unsure"]},
        "note": {"type": ["string", "null"], "maxLength": 2000},
        "reviewer": {"type": "string", "minLength": 1, "maxLength": 200,
                     "description": "defaults to the API key's name"},
    },
}

REVIEW_OR_NULL = {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Review"}]}

REVIEW_QUEUE = {
    "type": "object",
    "required": ["items", "total", "state", "sort", "limit", "offset"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "filename", "media_type", "label", "score", "top_reason", "created_at",
                             "review_state", "review"],
                "properties": {
                    "id": {"type": "string"},
                    "filename": {"type": "string"},
                    "media_type": {"enum": ["image", "audio", "text", "video", None]},
                    "label": {"enum": ["synthetic", "inconclusive"]},
                    "score": {"type": ["number", "null"]},
                    "top_reason": {"type": ["string", "null"]},
                    "created_at": {"type": "string"},
                    "review_state": {"enum": ["pending", "reviewed"]},
                    "review": REVIEW_OR_NULL,
                },
            },
        },
        "total": {"type": "integer", "minimum": 0},
        "state": {"enum": ["pending", "reviewed", "all"]},
        "sort": {"enum": ["score", "newest"]},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
    },
}

REPORT = {
    "type": "object",
    "required": ["id", "sha256", "filename", "media_type", "status", "error", "verdict", "provenance",
                 "detectors", "models", "created_at"],
    "properties": {
        "id": {"type": "string"},
        "sha256": {"type": "string"},
        "filename": {"type": "string"},
        "media_type": {"enum": ["image", "audio", "text", "video", None]},
        "status": {"enum": ["queued", "running", "done", "error"]},
        "error": {"type": ["string", "null"]},
        "verdict": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["label", "score", "reasons"],
                    "properties": {
                        "label": {"enum": ["synthetic", "authentic", "inconclusive"]},
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                        "reasons": {"type": "array", "items": {"type": "string"}},
                    },
                },
            ]
        },
        "provenance": {
            "type": "object",
            "properties": {
                "c2pa": C2PA,
                "watermarks": {"type": "array", "items": WATERMARK},
                "metadata": {"type": "object"},
            },
        },
        "detectors": {"type": "array", "items": FINDING},
        "models": {"type": "object", "additionalProperties": {"type": "string"}},
        "created_at": {"type": "string"},
        "review": REVIEW_OR_NULL | {"description": "the latest reviewer decision (GET /scans/{scan_id} only)"},
        "review_history": {"type": "array", "items": {"$ref": "#/components/schemas/Review"}, "maxItems": 100,
                           "description": "every decision on this scan, newest first, at most 100 "
                                          "(GET /scans/{scan_id} only)"},
    },
}

ACCEPTED_SCAN = {
    "type": "object",
    "required": ["id", "status", "status_url"],
    "properties": {"id": {"type": "string"}, "status": {"const": "queued"}, "sha256": {"type": "string"},
                   "status_url": {"type": "string"}},
}

ACCEPTED_BATCH = {
    "type": "object",
    "required": ["id", "total", "status_url"],
    "properties": {"id": {"type": "string"}, "total": {"type": "integer"}, "status_url": {"type": "string"}},
}

COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}

BATCH = {
    "type": "object",
    "required": ["id", "source", "total", "counts", "complete", "progress", "scans", "created_at"],
    "properties": {
        "id": {"type": "string"},
        "source": {"enum": ["path", "upload"]},
        "path": {"type": ["string", "null"]},
        "total": {"type": "integer"},
        "counts": COUNTS,
        "verdicts": COUNTS,
        "complete": {"type": "boolean"},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "scans": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "filename", "status"],
                "properties": {"id": {"type": "string"}, "filename": {"type": "string"},
                               "status": {"type": "string"}, "label": {"type": ["string", "null"]}},
            },
        },
        "created_at": {"type": "string"},
    },
}

SCAN_LIST = {
    "type": "object",
    "required": ["items", "limit", "offset"],
    "properties": {
        "items": {"type": "array", "items": {"type": "object", "required": ["id", "filename", "status"]}},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
    },
}

DATASET_REQUEST = {
    "type": "object",
    "required": ["modality", "count"],
    "additionalProperties": False,
    "properties": {
        "modality": {"enum": ["text", "image", "voice"]},
        "count": {"type": "integer", "minimum": 1, "maximum": 100000},
        "seed": {"type": "integer", "minimum": 0},
        "generators": {"type": "array", "items": {"type": "string"}},
        "watermark": {"type": "boolean"},
        "c2pa": {"type": "boolean"},
        "real_ratio": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
    },
}

DATASET_JOB = {
    "type": "object",
    "required": ["id", "status", "modality", "count", "done", "progress", "out_dir"],
    "properties": {
        "id": {"type": "string"},
        "status": {"enum": ["queued", "running", "done", "error"]},
        "modality": {"type": "string"},
        "count": {"type": "integer"},
        "done": {"type": "integer"},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "error": {"type": ["string", "null"]},
        "out_dir": {"type": "string"},
        "options": {"type": "object"},
        "summary": {"type": ["object", "null"]},
        "created_at": {"type": "string"},
    },
}

HEALTH = {
    "type": "object",
    "required": ["status", "database", "queue"],
    "properties": {"status": {"enum": ["ok", "degraded"]}, "database": {"type": "string"},
                   "queue": {"type": "string"}, "version": {"type": "string"},
                   "embedded_worker": {"type": "boolean"}},
}


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "Bad request", 401: "Missing or invalid API key", 403: "Forbidden", 404: "Not found",
             409: "Conflict", 413: "Too large", 415: "Unsupported media type", 503: "Queue unavailable"}
    return {str(c): _json("Error", words[c]) for c in codes}


def spec(server_url: str = "/api/v1") -> dict[str, Any]:
    sec = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "provscan API", "version": "1.0.0",
                 "description": "Detect AI-generated media and check its provenance (C2PA, watermarks)."},
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "`provscan keys create NAME`"}},
            "schemas": {"Error": ERROR, "Report": REPORT, "AcceptedScan": ACCEPTED_SCAN,
                        "AcceptedBatch": ACCEPTED_BATCH, "Batch": BATCH, "ScanList": SCAN_LIST, "Health": HEALTH,
                        "DatasetRequest": DATASET_REQUEST, "DatasetJob": DATASET_JOB,
                        "AcceptedJob": ACCEPTED_BATCH | {"required": ["id", "status_url"]},
                        "Review": REVIEW, "ReviewRequest": REVIEW_REQUEST, "ReviewQueue": REVIEW_QUEUE},
        },
        "paths": {
            "/healthz": {"get": {"operationId": "healthz", "summary": "Liveness and dependencies", "security": [],
                                 "responses": {"200": _json("Health", "Healthy"), "503": _json("Health", "Degraded")}}},
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "security": sec,
                                      "responses": {"200": {"description": "OpenAPI document",
                                                            "content": {"application/json": {"schema": {"type": "object"}}}},
                                                    **_errors(401)}}},
            "/scans": {
                "post": {
                    "operationId": "createScan", "summary": "Upload one file for analysis", "security": sec,
                    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                        "type": "object", "required": ["file"],
                        "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream"}}}}}},
                    "responses": {"202": _json("AcceptedScan", "Queued"), **_errors(400, 401, 413, 415, 503)},
                },
                "get": {
                    "operationId": "listScans", "summary": "Recent scans, newest first", "security": sec,
                    "parameters": [
                        {"name": "status", "in": "query", "schema": {"enum": ["queued", "running", "done", "error"]}},
                        {"name": "label", "in": "query", "schema": {"enum": ["synthetic", "authentic", "inconclusive"]}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                    ],
                    "responses": {"200": _json("ScanList", "Scans"), **_errors(400, 401)},
                },
            },
            "/scans/{scan_id}": {"get": {
                "operationId": "getScan", "summary": "A scan's report (poll until status is done or error)", "security": sec,
                "parameters": [{"name": "scan_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json("Report", "Report"), **_errors(401, 404)}}},
            "/scans/{scan_id}/media": {"get": {
                "operationId": "getScanMedia",
                "summary": "The scanned file's bytes (type sniffed from content; only images and audio inline)",
                "security": sec,
                "parameters": [{"name": "scan_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The stored file. Content-Type is sniffed from the bytes; "
                                                     "X-Content-Type-Options: nosniff; Content-Disposition is "
                                                     "inline for image/* (not SVG) and audio/*, attachment otherwise.",
                                      "content": {t: {"schema": {"type": "string", "contentMediaType": t}}
                                                  for t in ("image/*", "audio/*", "video/*", "text/plain",
                                                            "application/octet-stream")}},
                              **_errors(401, 404)}}},
            "/scans/{scan_id}/review": {"post": {
                "operationId": "reviewScan", "summary": "Record a reviewer's decision on a finished scan",
                "security": sec,
                "parameters": [{"name": "scan_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/ReviewRequest"}}}},
                "responses": {"201": _json("Review", "Saved"), **_errors(400, 401, 404, 409)}}},
            "/reviews/queue": {"get": {
                "operationId": "reviewQueue",
                "summary": "Finished scans flagged synthetic or inconclusive, most probably synthetic first "
                           "(or newest first), with their latest review",
                "security": sec,
                "parameters": [
                    {"name": "state", "in": "query", "schema": {"enum": ["pending", "reviewed", "all"], "default": "pending"}},
                    {"name": "label", "in": "query", "schema": {"enum": ["synthetic", "inconclusive"]}},
                    {"name": "sort", "in": "query", "schema": {"enum": ["score", "newest"], "default": "score"},
                     "description": "score: highest verdict score (probability of synthetic) first; ties newest first"},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                ],
                "responses": {"200": _json("ReviewQueue", "Queue page"), **_errors(400, 401)}}},
            "/batches": {"post": {
                "operationId": "createBatch", "summary": "Scan a folder inside an allowed root, or many uploaded files",
                "security": sec,
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "object", "required": ["path"],
                                                    "properties": {"path": {"type": "string"}}}},
                    "multipart/form-data": {"schema": {"type": "object", "required": ["files"], "properties": {
                        "files": {"type": "array", "items": {"type": "string", "contentMediaType": "application/octet-stream"}}}}}}},
                "responses": {"202": _json("AcceptedBatch", "Queued"), **_errors(400, 401, 403, 404, 413, 503)}}},
            "/datasets": {"post": {
                "operationId": "createDataset", "summary": "Generate a labelled synthetic dataset on the server",
                "security": sec,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/DatasetRequest"}}}},
                "responses": {"202": _json("AcceptedJob", "Queued"), **_errors(400, 401, 503)}}},
            "/datasets/{job_id}": {"get": {
                "operationId": "getDataset", "summary": "Dataset job progress (counted in the store)", "security": sec,
                "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json("DatasetJob", "Job"), **_errors(401, 404)}}},
            "/batches/{batch_id}": {"get": {
                "operationId": "getBatch", "summary": "Batch progress (counted from the store) and its scans", "security": sec,
                "parameters": [{"name": "batch_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json("Batch", "Batch"), **_errors(401, 404)}}},
        },
    }
