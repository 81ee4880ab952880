from sessionerror import mask_url_password, redact

details = redact(
    {
        "headers": {"Authorization": "Bearer eyJhbGciOi.x.y", "Accept": "application/json"},
        "dsn": "postgresql://app:s3cr3t@db:5432/app",
        "note": "password reset failed",
    }
)
assert details["headers"] == {"Authorization": "[REDACTED]", "Accept": "application/json"}
assert "s3cr3t" not in details["dsn"]
assert details["note"] == "password reset failed"  # ordinary words stay
assert mask_url_password("postgresql://app:s3cr3t@db/app") == "postgresql://app:***@db/app"
