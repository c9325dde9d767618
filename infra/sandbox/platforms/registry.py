"""Platform name -> simulator (the server routes /<platform>/<shop>/... and checkout webhooks by it)."""
from __future__ import annotations

from infra.sandbox.platforms._common import Simulator
from infra.sandbox.platforms.amazon import AmazonSim
from infra.sandbox.platforms.douyin import DouyinSim
from infra.sandbox.platforms.jd import JdSim
from infra.sandbox.platforms.lazada import LazadaSim
from infra.sandbox.platforms.pinduoduo import PinduoduoSim
from infra.sandbox.platforms.shopee import ShopeeSim
from infra.sandbox.platforms.shopify import ShopifySim
from infra.sandbox.platforms.taobao import TaobaoSim
from infra.sandbox.platforms.tiktok import TikTokSim
from infra.sandbox.platforms.woocommerce import WooSim

SIMULATORS: dict[str, Simulator] = {s.platform: s for s in (ShopifySim(), TikTokSim(), ShopeeSim(), LazadaSim(), WooSim(),
                                                    PinduoduoSim(), TaobaoSim(), DouyinSim(), JdSim(),
                                                    AmazonSim())}
