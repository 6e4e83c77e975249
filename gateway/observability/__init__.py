"""Observability that lives outside the HTTP app: the metrics endpoint of worker processes."""
