"""Formats ledger amounts. A django-ha lab test package: it exists only in the lab's local Python index."""

__version__ = "1.0.0"

#: A value the test project shows on its page, so a test can tell the package was imported from the index.
MARKER = "ledgerfmt-1.0.0-from-the-lab-index"


def format_amount(cents, currency="EUR"):
    """1234 -> '12.34 EUR'; negative amounts keep their sign."""
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}{cents // 100}.{cents % 100:02d} {currency}"
