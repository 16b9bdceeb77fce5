"""Read capacity as DynamoDB bills it (Django-free)."""
import math
from decimal import Decimal

UNIT = 4096


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
    if isinstance(value, dict):
        return 3 + sum(len(k.encode("utf-8")) + value_size(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return 3 + sum(value_size(v) for v in value)
    raise TypeError(f"unsupported attribute type {type(value).__name__}")


def item_size(item):
    """Return the billed size of an item: attribute names plus values."""
    return sum(len(k.encode("utf-8")) + value_size(v) for k, v in item.items())


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
