"""The kit's suites, one concern each; ``conformance.VendorConformance`` combines them all."""
