"""The kit's suites, one concern each; ``conformance.VendorConformance`` combines them all."""

import pkgutil

import pytest

# The suites' asserts are the kit's whole message to an integrator, so pytest must rewrite them
# into explaining ones; it does so only for modules named to it before they are imported.
pytest.register_assert_rewrite(
    *(f"{__name__}.{module.name}" for module in pkgutil.iter_modules(__path__))
)
