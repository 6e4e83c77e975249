"""``meters-integration-api demo``: scripted rides played through a sandbox, step by step."""
