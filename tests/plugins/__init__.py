"""Vendor plugin modules used by the tests, good and broken."""
