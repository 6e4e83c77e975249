"""Taxameter Cloud's trip API, as both the vendor client and the simulator speak it.

    POST   /fleets/{fleet}/trips             {"reference", "driverIdNumber", "concession",
                                              "fareCap": "42.24"}  -> 201 (200 if the
                                              reference already has a trip) {"trip": TRIP};
                                              409 {"error": "driver_busy"} if the driver
                                              has a running trip of another reference
    GET    /fleets/{fleet}/trips/{trip}      -> 200 {"trip": TRIP}
    POST   /fleets/{fleet}/trips/{trip}/close {"payment": "cash" | "app"} -> 200 {"trip": TRIP}
    DELETE /fleets/{fleet}/trips/{trip}      -> 204

    TRIP = {"id", "status": "RUNNING" | "CLOSED" | "CANCELLED", "fare": "40.04" | null}

Money is a decimal string in euros; every call carries the API key as ``X-Taxameter-Key``.
"""

from enum import StrEnum

API_KEY_HEADER = "X-Taxameter-Key"
TRIPS = "/fleets/{fleet}/trips"
TRIP = "/fleets/{fleet}/trips/{trip}"
CLOSE = "/fleets/{fleet}/trips/{trip}/close"


class TripStatus(StrEnum):
    RUNNING = "RUNNING"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"
