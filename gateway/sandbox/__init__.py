"""The sandbox: simulators of every upstream the gateway calls, with fault injection and call
logs (built on the SDK's simulator kit, gateway.plugins.simulator and faults, as the vendors'
are); the ``sandbox`` command that serves them beside the gateway, seeded with demo orders, and
the ``simulators`` command that serves them alone, for real gateways and workers to call."""
