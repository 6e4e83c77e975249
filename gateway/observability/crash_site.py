"""Where a plugin's unexpected exception came from, without its message.

A third-party vendor's exception message or traceback may quote what it was
handed, a national id number included; the type and the raising line say
enough to find the bug and nothing about the driver.
"""

import traceback


def crash_site(error: BaseException) -> dict[str, str]:
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return {"error_type": type(error).__name__, "raised_at": where}
