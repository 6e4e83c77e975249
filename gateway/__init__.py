"""meters-integration-api: a pluggable multi-vendor taxi meter gateway."""
