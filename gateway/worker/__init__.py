"""The ``worker`` command: processes that run the start-ride task from the Redis stream."""
