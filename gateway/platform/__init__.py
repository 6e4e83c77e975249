"""Clients of the platform services (DESIGN §5), one module each."""
