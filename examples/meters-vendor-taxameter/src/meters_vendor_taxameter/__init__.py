"""Taxameter Cloud meters (Germany), as a vendor plugin of meters-integration-api."""
