import numpy as np

from stocklink.forecasting.abc import abc_classes


def test_boundaries_at_80_and_95():
    assert abc_classes([50, 30, 15, 5]).tolist() == ["A", "A", "B", "C"]


def test_input_order_does_not_matter():
    assert abc_classes([5, 15, 50, 30]).tolist() == ["C", "B", "A", "A"]


def test_one_dominant_sku_is_A():
    assert abc_classes([90, 10]).tolist() == ["A", "B"]


def test_zero_revenue_is_C():
    assert abc_classes([100, 0]).tolist() == ["A", "C"]
    assert abc_classes([0, 0]).tolist() == ["C", "C"]


def test_just_under_80_still_needs_the_next():
    assert abc_classes([79, 16, 5]).tolist() == ["A", "A", "C"]  # before: 0, 79 (<80), 95


def test_classes_from_cuts_match_whole_catalogue_classes_page_by_page():
    from stocklink.forecasting.abc import classes_from_cuts, cut_points
    rng = np.random.default_rng(3)
    names = [f"S{i:03d}" for i in range(250)]
    rev = rng.choice([0.0, 5.0, 10.0, 50.0, 200.0, 1000.0], 250)  # many ties on the cuts
    rev[7] = -3.0                                                  # net returns: C
    revenue = dict(zip(names, rev.tolist()))
    whole = dict(zip(names, abc_classes(rev).tolist()))
    cuts = cut_points(revenue)
    paged = {}
    for start in range(0, 250, 40):
        page = {s: revenue[s] for s in names[start:start + 40]}
        paged.update(classes_from_cuts(page, cuts))
    assert paged == whole
    assert set(whole.values()) == {"A", "B", "C"}


def test_cut_points_hand_computed():
    from stocklink.forecasting.abc import classes_from_cuts, cut_points
    # shares 50 / 30 / 15 / 5 → A, A, B, C; the last A is "y" (30), the last B "z" (15)
    revenue = {"x": 50.0, "y": 30.0, "z": 15.0, "w": 5.0}
    cuts = cut_points(revenue)
    assert cuts == {"A": [30.0, "y"], "B": [15.0, "z"]}
    assert classes_from_cuts({"w": 5.0, "y": 30.0}, cuts) == {"w": "C", "y": "A"}
