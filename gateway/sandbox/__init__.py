"""Simulators of every upstream the gateway calls, with fault injection and call logs."""
