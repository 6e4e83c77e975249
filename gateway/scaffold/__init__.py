"""``meters-integration-api new-vendor``: a standalone vendor package that starts green."""
