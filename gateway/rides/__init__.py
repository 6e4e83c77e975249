"""The two ride flows and the policy that decides what a failure leads to."""
