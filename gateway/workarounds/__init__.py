"""Workarounds of third-party bugs, one module per library.

Each names its upstream issue and applies only where the bug exists (a version or condition
checked in code), so that it can be deleted once nobody runs an affected version.
"""
