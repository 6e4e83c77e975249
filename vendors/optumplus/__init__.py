"""OptumPlus meters (Latvia): finish-only, no meter ride to start."""
