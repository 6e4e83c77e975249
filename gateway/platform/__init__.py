"""Clients of the platform services (docs/design.md §5), one module each."""
