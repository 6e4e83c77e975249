"""The vendor plugin boundary: what a meter vendor package implements and how it is found."""
