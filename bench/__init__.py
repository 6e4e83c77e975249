"""Benchmarks of the gateway against the practical limit on aiohttp (``python -m bench``).

Everything runs on loopback, in processes of its own, bounded in count and time.
"""
