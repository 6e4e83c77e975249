"""Redis users with chosen key permissions, so a test gets real Redis errors (NOPERM) on the
keys it denies while the task stream keeps working."""

import uuid

from redis.asyncio import Redis

LEDGER_KEYS = "~meters:ride_ledger*"
# The one part of the ledger written before the vendor is asked: the driver's start mark.
START_MARK_KEYS = "~meters:ride_ledger_unsettled_start:*"
LEASE_KEYS = "~meters:order_lease:*"


class RedisUser:
    def __init__(self, admin: Redis, broker_url: str, stream: str) -> None:
        self._admin = admin
        self.name = f"test-{uuid.uuid4().hex[:8]}"
        self.url = broker_url.replace("redis://", f"redis://{self.name}:secret@", 1)
        self._stream_keys = f"~{stream}*"

    async def create(self, *key_patterns: str) -> None:
        """The user, allowed every command on the task stream and on these keys only."""
        await self._admin.execute_command(
            "ACL", "SETUSER", self.name, "on", ">secret", "+@all", self._stream_keys, *key_patterns
        )

    async def allow_only(self, *key_patterns: str) -> None:
        """From now on the user reaches the stream and these keys, nothing else."""
        await self._admin.execute_command(
            "ACL", "SETUSER", self.name, "resetkeys", self._stream_keys, *key_patterns
        )

    async def delete(self) -> None:
        await self._admin.execute_command("ACL", "DELUSER", self.name)
