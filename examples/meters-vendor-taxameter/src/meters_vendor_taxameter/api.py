"""Taxameter Cloud's trip API, as both the vendor client and the simulator speak it.

    POST   /fleets/{fleet}/trips             {"reference", "driverIdNumber", "concession",
                                              "fareCap": "42.24"}  -> 201 (200 if the
                                              reference already has a trip) {"trip": TRIP}
    GET    /fleets/{fleet}/trips/{trip}      -> 200 {"trip": TRIP}
    POST   /fleets/{fleet}/trips/{trip}/close {"payment": "cash" | "app"} -> 200 {"trip": TRIP}
    DELETE /fleets/{fleet}/trips/{trip}      -> 204

    TRIP = {"id", "status": "RUNNING" | "CLOSED" | "CANCELLED", "fare": "40.04" | null}

Money is a decimal string in euros; every call carries ``Authorization: Bearer <token>``.
"""

from enum import StrEnum

TRIPS = "/fleets/{fleet}/trips"
TRIP = "/fleets/{fleet}/trips/{trip}"
CLOSE = "/fleets/{fleet}/trips/{trip}/close"


class TripStatus(StrEnum):
    RUNNING = "RUNNING"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"
