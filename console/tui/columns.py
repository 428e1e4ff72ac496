"""Which agency-table columns fit the table's width, and how wide each one is.

The group is what an operator reads first, so it must never be pushed off the right edge by a long
name or address (at 120 columns it was, behind the scrollbar). Name and address stretch between a
minimum and a maximum; the other columns have natural widths and are dropped, least useful first,
when the table is too narrow for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

ALL_COLUMNS: tuple[str, ...] = (
    "mark",
    "seq",
    "name",
    "district",
    "province",
    "address",
    "group",
    "followup",
    "flags",
    "checked",
)
REQUIRED: frozenset[str] = frozenset({"mark", "seq", "name", "address", "group"})
OPTIONAL_BY_PRIORITY: tuple[str, ...] = ("district", "followup", "flags", "province", "checked")
FIXED_WIDTHS: dict[str, int] = {
    "mark": 1,
    "seq": 5,
    "district": 10,
    "province": 8,
    "group": 3,
    "followup": 7,  # "รอแก้ไข", "✓แก้แล้ว"
    "flags": 9,  # "โทรแล้ว" and the start of what follows; the detail pane lists every flag
    "checked": 16,  # "01/12/2569 19:23"
}
# (min, max): names are shown abbreviated (อบต. …), so 16 cells tell most units apart; the address
# is what gets checked and read out on the phone, so it is wider and grows first
FLEX_WIDTHS: dict[str, tuple[int, int]] = {"name": (16, 40), "address": (24, 34)}
ADDRESS_FIRST_TO = 30  # spare cells go to the address up to this width, then to both in turn
SQUEEZED_MIN = 6  # name and address never get narrower than this, however small the terminal
CELL_PADDING = 1  # DataTable's default, on each side of every cell


def fit_columns(
    width: int,
    candidates: Sequence[str] = ALL_COLUMNS,
    label_widths: Mapping[str, int] | None = None,
    prefer: Sequence[str] = (),
) -> tuple[tuple[str, int], ...]:
    """The columns (in display order) and their content widths for a table `width` cells wide.

    `label_widths`: a fixed column is at least as wide as its header ("Group" is wider than "A1").
    `prefer`: optional columns that matter most for what is on screen now (the province when the rows
    span provinces, the follow-up when someone was called), offered before the usual order.
    """
    pad = 2 * CELL_PADDING
    fixed = {c: max(w, (label_widths or {}).get(c, 0)) for c, w in FIXED_WIDTHS.items()}
    chosen = {c for c in candidates if c in REQUIRED}
    widths: dict[str, int] = {c: fixed[c] for c in chosen if c in fixed}
    widths.update({c: FLEX_WIDTHS[c][0] for c in chosen if c in FLEX_WIDTHS})

    def used() -> int:
        return sum(widths.values()) + pad * len(widths)

    order = [c for c in prefer if c in OPTIONAL_BY_PRIORITY] + [c for c in OPTIONAL_BY_PRIORITY if c not in prefer]
    for column in order:
        if column in candidates and used() + fixed[column] + pad <= width:
            widths[column] = fixed[column]
    flexible = [c for c in ("name", "address") if c in widths]
    spare = width - used()
    while spare < 0:  # narrower than the minimum: squeeze name and address in turn, keep the group
        squeezable = [c for c in flexible if widths[c] > SQUEEZED_MIN]
        if not squeezable:
            break
        widths[max(squeezable, key=lambda c: widths[c])] -= 1
        spare += 1
    if spare < 0 and "seq" in widths:  # a tiny terminal: the group matters more than the number
        del widths["seq"]
        spare = width - used()
    if "address" in widths and spare > 0:
        grow = min(spare, max(ADDRESS_FIRST_TO - widths["address"], 0))
        widths["address"] += grow
        spare -= grow
    while spare > 0:  # one cell at a time to whichever flexible column is furthest below its maximum
        growable = [c for c in flexible if widths[c] < FLEX_WIDTHS[c][1]]
        if not growable:
            break
        column = min(growable, key=lambda c: widths[c] / FLEX_WIDTHS[c][1])
        widths[column] += 1
        spare -= 1
    return tuple((c, widths[c]) for c in candidates if c in widths)
