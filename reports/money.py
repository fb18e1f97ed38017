"""Amounts of money as the reports show them: the organisation's currency, no false precision.

- Currency: settings.ORGANIZATION_CURRENCY (ISO 4217, default "USD").
- Precision: whole units from 100 up ("$333", not "$333.00": a cost per won deal over 3 wins is
  not known to the cent); below 100, cents only when there are any ("$25", "$12.50").
- With babel installed the symbol, grouping and placement follow settings.LANGUAGE_CODE's locale
  (babel.numbers.format_currency); without it a small formatter knows the common symbols and
  writes "1,234" groups, any other currency as its code ("SEK 1,234").
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

try:  # babel is optional: the reports work without it.
    from babel.numbers import format_currency as babel_format_currency
except ImportError:  # pragma: no cover - depends on the environment
    babel_format_currency = None

WHOLE_UNITS_FROM = Decimal(100)
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "INR": "₹"}


def _rounded(amount: Decimal) -> tuple[Decimal, bool]:
    """The amount at the precision shown, and whether cents are shown."""
    if abs(amount) >= WHOLE_UNITS_FROM or amount == amount.to_integral_value():
        return amount.quantize(Decimal(1), rounding=ROUND_HALF_UP), False
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), True


def money_display(amount, currency: str | None = None) -> str:
    """`amount` in `currency` (default: the organisation's) as a short figure; "—" for none."""
    if amount is None or amount == "":
        return "—"
    currency = (currency or settings.ORGANIZATION_CURRENCY).upper()
    value, cents = _rounded(Decimal(str(amount)))
    if babel_format_currency is not None:
        locale = settings.LANGUAGE_CODE.replace("-", "_")
        pattern = None if cents else "¤#,##0"
        return babel_format_currency(value, currency, format=pattern, locale=locale, currency_digits=cents)
    number = f"{abs(value):,.2f}" if cents else f"{abs(value):,.0f}"
    sign = "-" if value < 0 else ""
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency} {number}"
