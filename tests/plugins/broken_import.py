"""A vendor package whose import fails, as one with a missing dependency would."""

import meters_vendor_dependency_that_is_not_installed  # noqa: F401
