"""An order's note of what its listings may still sell names only the attributes webhook_ingest is granted
(keys.SHOWN_NOTE_ATTRIBUTES; infra/constructs/functions.py): anything more would be refused on AWS, with the
order's whole transaction."""
from pynamodb.expressions.update import Update

from stocklink.store.keys import SHOWN_NOTE_ATTRIBUTES
from stocklink.store.sync_models import ShownNote


def _names(actions) -> set[str]:
    placeholders: dict = {}
    Update(*actions).serialize(placeholders, {})
    return set(placeholders)


def test_a_sale_and_a_cancellation_write_only_the_granted_attributes():
    note = ShownNote("shopify", "s1", {"sold": -2, "back": 3, "unchanged": 0}, now_ms=1_000)
    updates = {item.sk: actions for item, actions in note.updates()}
    assert set(updates) == {"sold", "back"}                        # nothing written for no change
    names = set().union(*(_names(actions) for actions in updates.values()))
    assert names | {"pk", "sk"} <= set(SHOWN_NOTE_ATTRIBUTES)
    assert "recent_sales" in _names(updates["sold"]) and "recent_sales" not in _names(updates["back"])
