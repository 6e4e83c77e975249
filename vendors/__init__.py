"""Vendor plugins shipped with the gateway, registered through the same entry points as any."""
