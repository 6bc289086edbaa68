"""How prices, money and counts are held: ``decimal.Decimal``, everywhere.

This is the one place the choice is made and documented.

Kalshi sends every price, amount and contract count as a decimal string
(``"8.0961"``, ``"617.00"``, ``"-308.00"``; money up to 6 places). We decode
them straight into :class:`decimal.Decimal`:

* exact: no binary float ever touches a price or a size, and sums stay exact
  (``Decimal("711.00") + Decimal("-1.00") == Decimal("710.00")``);
* fast: msgspec parses ``Decimal`` fields in C while it decodes the frame
  (about 0.23 µs a field on the reference machine, against about 0.43 µs for a
  Python-level conversion to scaled integers), and the ``_decimal`` C module adds,
  compares and hashes in tens of nanoseconds;
* faithful: a ``Decimal`` keeps the exponent it was written with, so
  ``str(price)`` gives back the exchange's own string (``"6.3352"``,
  ``"711.00"``), which is what the replay and stream summaries print;
* keyed by value: ``Decimal("8.0961") == Decimal("8.09610")`` and both hash the
  same, so a book keyed by price cannot hold one level twice.

On the way out (commands, REST bodies, the simulator) msgspec encodes a
``Decimal`` as its string. Rates that Kalshi sends as JSON numbers (funding
rates, leverage) decode into ``Decimal`` too, from the number's own text.

The default decimal context (28 significant digits) covers every magnitude on
this API many times over.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["ZERO", "Count", "Dollars", "Price", "to_decimal", "fmt_count", "fmt_dollars"]

Price = Decimal
"""Dollars per contract (``"8.0961"``)."""
Dollars = Decimal
"""An amount of money in dollars (balances, fees, notional)."""
Count = Decimal
"""A number of contracts, fixed-point with two places (``"617.00"``)."""

ZERO = Decimal(0)
_CENT = Decimal("0.01")


def to_decimal(value: str | int | Decimal) -> Decimal:
    """A finite ``Decimal`` from a decimal string, an int or a ``Decimal``.

    Raises:
        ValueError: not a finite decimal number (floats are refused: they are not exact).
    """
    if isinstance(value, float) or isinstance(value, bool):
        raise ValueError(f"refusing {type(value).__name__} {value!r}: pass a str or Decimal")
    try:
        d = value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, TypeError):
        raise ValueError(f"not a decimal number: {value!r}") from None
    if not d.is_finite():
        raise ValueError(f"not a finite decimal number: {value!r}")
    return d


def fmt_count(count: Decimal) -> str:
    """A count as Kalshi writes it in responses: two places (``"10.00"``)."""
    return format(count.quantize(_CENT), "f")


def fmt_dollars(amount: Decimal, places: int = 4) -> str:
    """Dollars with at least ``places`` places (more only if the value has them)."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent >= places:
        return format(amount, "f")
    return format(amount.quantize(Decimal(1).scaleb(-places)), "f")
