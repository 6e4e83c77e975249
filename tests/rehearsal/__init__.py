"""The on-call rehearsal (``make rehearse``, docs/operations.md "Rehearsed on a real
Prometheus"): each incident of issue 22 played on its own loopback production, watched by a real
Prometheus evaluating the shipped rules unchanged."""
