"""Read capacity as DynamoDB bills it, and a meter of every DynamoDB call (Django-free).

DynamoDB bills a GetItem the item's size rounded up to 4 KB, a BatchGetItem each item so
rounded, and a Query or Scan the total size of what it read, rounded once; an eventually
consistent read costs half. An item's size is the UTF-8 length of its attribute names plus
its values (numbers: about a byte per two significant digits, plus one; lists and maps:
3 bytes plus their elements, each one byte more; AWS's "DynamoDB item sizes and formats"). AWS reports what it billed when asked (ReturnConsumedCapacity,
which PynamoDB's Connection.dispatch asks for as TOTAL on every item call); the emulator
does not report it faithfully, so the meter also computes it from the items each response
carries, by these rules.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from common import logs

UNIT = 4096
READS = ("GetItem", "BatchGetItem", "Query", "Scan")


def value_size(value):
    """Return the billed size in bytes of one attribute value."""
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, (int, float, Decimal)):
        # DynamoDB: about 1 byte per 2 significant digits, plus 1.
        digits = str(Decimal(str(value)).normalize()).lstrip("-").replace(".", "")
        digits = digits.split("E")[0].strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    # A list or map: 3 bytes, plus its elements, each with a byte of its own.
    if isinstance(value, dict):
        return 3 + sum(len(k.encode("utf-8")) + value_size(v) + 1 for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return 3 + sum(value_size(v) + 1 for v in value)
    if isinstance(value, (set, frozenset)):  # a set: its elements
        return sum(value_size(v) for v in value)
    raise TypeError(f"unsupported attribute type {type(value).__name__}")


def item_size(item):
    """Return the billed size of an item: attribute names plus values."""
    return sum(len(k.encode("utf-8")) + value_size(v) for k, v in item.items())


def plain(wire):
    """Return a value of DynamoDB's wire form ({"S": ...}) as value_size takes it."""
    (kind, value), = wire.items()
    if kind == "N":
        return Decimal(value)
    if kind == "NS":
        return {Decimal(v) for v in value}
    if kind in ("SS", "BS"):
        return set(value)
    if kind == "L":
        return [plain(v) for v in value]
    if kind == "M":
        return {k: plain(v) for k, v in value.items()}
    if kind == "NULL":
        return None
    return value  # S, B, BOOL


def wire_item_size(item):
    """Return the billed size of an item in wire form."""
    return item_size({k: plain(v) for k, v in item.items()})


def _units(size, consistent):
    """Return RCU for size bytes rounded up to 4 KB."""
    units = max(1, math.ceil(size / UNIT))
    return units if consistent else units / 2


def get_item_rcu(item, consistent=False):
    """Return the RCU of one GetItem."""
    return _units(item_size(item) if item else 0, consistent)


def batch_get_rcu(items, consistent=False):
    """Return the RCU of a BatchGetItem: each item rounded up on its own."""
    return sum(_units(item_size(i), consistent) for i in items)


def query_rcu(items, consistent=False):
    """Return the RCU of one Query or Scan call: all items read, rounded once."""
    return _units(sum(item_size(i) for i in items), consistent)


def size_rcu(size, consistent=False):
    """Return the RCU of one Query or Scan call that read `size` bytes."""
    return _units(size, consistent)


# ---------------------------------------------------------------- the meter


@dataclass
class Meter:
    """DynamoDB calls made while it is open, and their read capacity."""

    calls: int = 0
    rcu: float = 0.0  # computed by DynamoDB's rules from the items read
    consumed: float = 0.0  # as the service reported it (the emulator's figure is not the bill)
    unsized: int = 0  # items a filter expression read but did not return (not in `rcu`)
    by_call: Counter = field(default_factory=Counter)


_open: ContextVar[tuple[Meter, ...]] = ContextVar("capacity_meters", default=())


def reported(parsed: dict) -> float:
    """Return the capacity a response says it consumed (a map, or a list of them for batches)."""
    found = parsed.get("ConsumedCapacity")
    found = found if isinstance(found, list) else [found] if found else []
    return float(sum(c.get("CapacityUnits", 0) for c in found))


def call_rcu(name: str, params: dict, parsed: dict) -> tuple[float, int]:
    """Return (RCU by DynamoDB's rules, items read but not returned) of one call's response."""
    if name == "GetItem":
        item = parsed.get("Item")
        return _units(wire_item_size(item) if item else 0, bool(params.get("ConsistentRead"))), 0
    if name == "BatchGetItem":
        total = 0.0
        for table, items in (parsed.get("Responses") or {}).items():
            consistent = bool(((params.get("RequestItems") or {}).get(table) or {}).get("ConsistentRead"))
            total += sum(_units(wire_item_size(i), consistent) for i in items)
        return total, 0
    if name in ("Query", "Scan"):
        items = parsed.get("Items") or []
        size = sum(wire_item_size(i) for i in items)
        return _units(size, bool(params.get("ConsistentRead"))), max(0, parsed.get("ScannedCount", 0) - len(items))
    return 0.0, 0


def _before(params, context, **_):
    context["capacity_params"] = params


def _after(parsed, model, context, **_):
    rcu, unsized = call_rcu(model.name, context.get("capacity_params") or {}, parsed)
    consumed = reported(parsed)
    for meter in _open.get():
        meter.calls += 1
        meter.rcu += rcu
        meter.consumed += consumed
        meter.unsized += unsized
        meter.by_call[model.name] += 1
    logs.add_figures(dynamodb_calls=1, dynamodb_consumed=consumed, dynamodb_rcu=rcu)


def watch_client(client) -> None:
    """Meter a botocore DynamoDB client's calls (idempotent)."""
    client.meta.events.register("before-parameter-build.dynamodb", _before, unique_id="capacity-before")
    # First: a boto3 resource's client turns the wire form into Python values after the call.
    client.meta.events.register_first("after-call.dynamodb", _after, unique_id="capacity-after")


def watch() -> None:
    """Meter every catalog model's client: the one it has, or the one its botocore session makes
    next (a client copies its session's handlers; making all of them now would cost a cold
    start about 60 ms each)."""
    from pynamodb.models import Model

    from images import records

    for model in vars(records).values():
        if isinstance(model, type) and issubclass(model, Model) and model.__module__ == records.__name__:
            connection = model._get_connection().connection
            if connection._client is not None:
                watch_client(connection._client)
            else:
                events = connection.session.get_component("event_emitter")
                events.register("before-parameter-build.dynamodb", _before, unique_id="capacity-before")
                events.register_first("after-call.dynamodb", _after, unique_id="capacity-after")


@contextmanager
def metering() -> Iterator[Meter]:
    """A meter of every DynamoDB call the catalog makes in this context."""
    watch()
    meter = Meter()
    token = _open.set((*_open.get(), meter))
    try:
        yield meter
    finally:
        _open.reset(token)


logs.REQUEST_HOOKS.append(watch)
