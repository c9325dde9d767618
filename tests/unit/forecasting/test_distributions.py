import math

import pytest

from stocklink.forecasting.distributions import count_quantile, count_tail, norm_ppf


@pytest.mark.parametrize("p,z", [(0.5, 0.0), (0.95, 1.6448536269514722), (0.98, 2.0537489106318225),
                                 (0.99, 2.3263478740408408), (0.001, -3.090232306167813)])
def test_norm_ppf_table_values(p, z):
    assert norm_ppf(p) == pytest.approx(z, abs=1e-9)


def test_poisson_quantile_mean_2():
    # CDF: .1353 .4060 .6767 .8571 .9473 .9834
    assert count_quantile(0.95, [2.0]).tolist() == [5]
    assert count_quantile(0.90, [2.0]).tolist() == [4]
    assert count_quantile(0.10, [2.0]).tolist() == [0]


def test_negative_binomial_quantile_mean_2_var_4():
    # r = 2, p = .5: pmf(k) = (k+1)/2^(k+2); CDF .25 .5 .6875 .8125 .890625 .9375 .96484
    assert count_quantile(0.95, [2.0], [4.0]).tolist() == [6]
    assert count_quantile(0.93, [2.0], [4.0]).tolist() == [5]


def test_tails():
    assert count_tail([5], [2.0])[0] == pytest.approx(1 - sum(math.exp(-2) * 2 ** k / math.factorial(k)
                                                             for k in range(5)))
    assert count_tail([6], [2.0], [4.0])[0] == pytest.approx(0.0625)
    assert count_tail([1], [2.0], [4.0])[0] == pytest.approx(0.75)
    assert count_tail([0], [2.0])[0] == 1.0
