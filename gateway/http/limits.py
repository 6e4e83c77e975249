"""Bounds on what a caller may send (docs/design.md §6), shared by the app and its server."""

# A finish-ride body is under 200 bytes; 64 KiB leaves room for any honest caller.
MAX_BODY_BYTES = 64 * 1024
# A body still arriving after this long is refused (408), so a stalled caller never holds a
# request open; finish-ride's own deadline is shorter and ends it first.
BODY_READ_TIMEOUT_S = 10.0
# A body nested deeper than this is refused before it reaches the validator.
MAX_JSON_DEPTH = 32
# A number whose leading digit is further from the decimal point than this (1e401, 1e-401,
# 0e-999999999) is refused as out of range. Every 64-bit float's literal stays within ±324,
# so any number a JSON library writes from a double is accepted.
MAX_NUMBER_EXPONENT = 400

# The HTTP parser's own bounds (aiohttp's defaults, stated so they are ours): one request or
# header line, one header, and the number of headers. Beyond them aiohttp answers 400 itself.
SERVER_LIMITS = {"max_line_size": 8190, "max_field_size": 8190, "max_headers": 128}
