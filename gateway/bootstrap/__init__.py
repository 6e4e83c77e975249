"""The composition root: where a process is built (README "Architecture").

``serve``, ``worker``, the sandbox and the tests build their process here and nowhere else: the
settings and the vendor catalog (``load``: the plugins found through their entry points, and
each routed vendor's section validated by its own model), one Redis pool handed to both the
broker and the coordination stores (``compose``), and the ride ports around one HTTP session
(``open_services``). The entrypoints (gateway.http, gateway.worker) serve what is built here;
the adapters and the core below take it as arguments and never look it up.
"""
