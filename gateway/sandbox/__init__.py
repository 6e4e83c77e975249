"""The sandbox: simulators of every upstream the gateway calls, with fault injection and call
logs, and the command that serves them beside the gateway, seeded with demo orders."""
