"""A paged run borrows from the catalogue's groups, not the page's (issue 20): every page's group_stats,
merged, given to every page, make a page's forecasts those of the whole catalogue run as one batch."""
import datetime as dt

import numpy as np

from stocklink.forecasting import engine, pooled

AS_OF = dt.date(2026, 11, 30)
T = 450
WEEK = {"toys": np.array([0.6, 0.6, 0.7, 0.8, 1.2, 2.1, 1.0]),
        "tools": np.array([1.4, 1.3, 1.2, 1.1, 1.0, 0.5, 0.5])}


def _catalogue(rng):
    """(rows, first_seen, category): 15 established SKUs per category with its weekday and yearly
    pattern; a toy launched 10 days ago and a tool launched 21 days ago, both selling their category's week."""
    rows, first_seen, category = [], {}, {}
    days = [AS_OF - dt.timedelta(days=T - 1 - t) for t in range(T)]
    year = 1 + 0.4 * np.sin(2 * np.pi * np.arange(T + 90) / 364)
    for cat in WEEK:
        for k in range(15):
            sku = f"{cat}-{k:02d}"
            category[sku] = cat
            for t, day in enumerate(days):
                rows.append((sku, day, float(rng.poisson(8 * WEEK[cat][day.weekday()] * year[t]))))
    for sku, cat, age in (("new-toy", "toys", 10), ("new-tool", "tools", 21)):
        category[sku] = cat
        first_seen[sku] = days[-age]
        for t in range(T - age, T):
            rows.append((sku, days[t], float(rng.poisson(5 * WEEK[cat][days[t].weekday()] * year[t]))))
    return rows, first_seen, category


def _history(rows, first_seen, category, skus):
    part = [r for r in rows if r[0] in skus]
    return engine.History.from_rows(part, as_of=AS_OF, max_days=730, first_seen=first_seen,
                                    groups={"category": category})


def _forecasts(results):
    return {r.sku: np.array(r.forecast) for r in results}


def test_a_new_sku_paged_away_from_its_category_gets_the_one_batch_forecast():
    rows, first_seen, category = _catalogue(np.random.default_rng(7))
    everyone = sorted(category)
    whole = _forecasts(engine.run(_history(rows, first_seen, category, set(everyone)), {}))
    # pages as a run might cut them: the two new SKUs alone (so the page is 21 days long), then each category
    pages = [{"new-toy", "new-tool"}] + [{s for s in everyone if category[s] == c and "new" not in s} for c in WEEK]
    histories = [_history(rows, first_seen, category, p) for p in pages]
    stats = pooled.GroupStats()
    for h in histories:
        stats = stats.merge(pooled.GroupStats.from_bytes(engine.group_stats(h).to_bytes()))  # as stored
    paged = {}
    for h in histories:
        paged.update(_forecasts(engine.run(h, {}, group_stats=stats)))
    for sku in everyone:
        np.testing.assert_allclose(paged[sku], whole[sku], rtol=1e-9, atol=1e-9, err_msg=sku)
    # without the catalogue's statistics the new toy's page knows nothing of toys: a flat week, no season
    alone = _forecasts(engine.run(histories[0], {}))["new-toy"]
    assert np.abs(alone[:28] - whole["new-toy"][:28]).max() > 0.1 * whole["new-toy"][:28].mean()
    fc = whole["new-toy"][:7]
    saturday = [(AS_OF + dt.timedelta(days=1 + h)).weekday() for h in range(7)].index(5)
    assert fc[saturday] > 1.5 * np.median(fc)             # the toys' Saturday, borrowed across pages


def test_group_stats_of_pages_add_up_to_the_catalogues():
    rows, first_seen, category = _catalogue(np.random.default_rng(3))
    everyone = set(category)
    whole = engine.group_stats(_history(rows, first_seen, category, everyone))
    half = set(sorted(everyone)[::2])
    merged = engine.group_stats(_history(rows, first_seen, category, half)).merge(
        engine.group_stats(_history(rows, first_seen, category, everyone - half)))
    np.testing.assert_allclose(merged.total, whole.total)
    for key in whole.yearly:
        np.testing.assert_allclose(merged.yearly[key], whole.yearly[key])
    for key in whole.levels:
        assert sorted(merged.levels[key]) == sorted(whole.levels[key])


def test_group_pages_keep_each_choice_group_whole_where_it_fits():
    choosers = {"a1": "x", "a2": "x", "b1": "y", "b2": "y", "b3": "y", "c1": "z", **{f"d{i}": "w" for i in range(7)}}
    pages = pooled.group_pages(choosers, 4)
    assert sorted(s for p in pages for s in p) == sorted(choosers)            # every SKU once
    assert all(len(p) <= 4 for p in pages)
    for group in ("x", "y", "z"):
        assert sum(any(choosers[s] == group for s in p) for p in pages) == 1    # in one page
    assert [len(p) for p in pages if choosers[p[0]] == "w"] == [4, 3]         # too big: pages of its own


def test_a_young_sku_is_a_chooser_and_an_established_one_is_not():
    rows, first_seen, category = _catalogue(np.random.default_rng(5))
    stats = engine.group_stats(_history(rows, first_seen, category, set(category)))
    assert set(stats.choosers) == {"new-tool"}               # 21 days: a backtest; the 10-day toy has none
    assert stats.choosers["new-tool"].startswith("tools")
