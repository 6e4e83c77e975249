"""Monitex smart meters (Israel)."""
