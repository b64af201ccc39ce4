"""Table-driven tests for qmcrawler.textnorm (DOMAIN.md §4.3–§4.5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qmcrawler.textnorm import fold_width, nfc, normalize_text
from qmcrawler.textnorm.pinyin import pinyin_stats

SEED_000 = Path(__file__).parent / "fixtures" / "extraction" / "seed_000.txt"
SIMPLIFIED_FILLER = "国家市场监督管理总局组织开展全国质量月活动推动高质量发展" * 16  # 480 Han

ROWS = [
    ("我國(guó)", "我国", SEED_000.read_text(encoding="utf-8")),
    ("第(a)项", "第(a)项", ""),
    (
        "(WTO)(PM2.5)(xi'an)(300540)(2011-2020年)(北京)(一)",
        "(WTO)(PM2.5)(xi'an)(300540)(2011-2020年)(北京)(一)",
        "",
    ),
    ("ＡＢＣ１２３！？；：，", "ABC123!?;:,", ""),
    ("全角　空格", "全角 空格", ""),
    ("①㎡…。", "①㎡…。", ""),
    ("a\u030c", "ǎ", ""),
    ("  多个   空格 \n\n 行  ", "多个 空格\n行", ""),
    (
        "乾隆 乾淨 著名 後宮 頭髮 發展 一隻 瞭解 臺灣 週末",
        "乾隆 干净 著名 后宫 头发 发展 一只 了解 台湾 周末",
        "",
    ),
    ("莘县和亳州的乾隆" + "国家市场监管" * 20, "莘县和亳州的乾隆" + "国家市场监管" * 20, ""),
    (
        "國務院辦(ban)公廳關(guan)於(yu)印發(fa)政(zheng)(zheng)(zheng)府網(wang)站(zhan)發(fa)展(zhan)指(zhi)引(yin)的(de)(de)通知,第(a)項",
        "国务院办公厅关于印发政府网站发展指引的通知,第(a)项",
        "",
    ),
    (
        "莘(shēn)县、亳(bó)州、第(a)项、(WTO)、(kg)" + SIMPLIFIED_FILLER,
        "莘(shēn)县、亳(bó)州、第(a)项、(WTO)、(kg)" + SIMPLIFIED_FILLER,
        "",
    ),
]


@pytest.mark.parametrize(("text", "expected", "context"), ROWS)
def test_normalize_text(text: str, expected: str, context: str) -> None:
    assert normalize_text(text, context=context) == expected


def test_width_fold_is_not_nfkc() -> None:
    assert fold_width("ＱＭ（一）") == "QM(一)"
    assert nfc("①") == "①"


def test_normalize_is_idempotent() -> None:
    text = SEED_000.read_text(encoding="utf-8")
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_mojibake_span_counted() -> None:
    assert pinyin_stats("燃?xì)庠罹叩热粘?C認(rèn)證").mojibake == 1


def test_seed_000_counts() -> None:
    stats = pinyin_stats(fold_width(SEED_000.read_text(encoding="utf-8")))
    assert (stats.toned, stats.untoned, stats.han) == (293, 0, 1117)
    assert stats.strip_toned


def test_display_keeps_script_unless_mirror() -> None:
    from qmcrawler.textnorm import apply_display, apply_plan, plan_normalization

    trad = "經濟部標準檢驗局舉辦質量月活動，推動產業品質提升。" * 4
    plan = plan_normalization(trad)
    assert plan.t2s
    assert not plan.display_t2s
    assert apply_display(trad, plan) == trad
    assert apply_plan(trad, plan).startswith("经济部标准检验局")
    seed = fold_width(SEED_000.read_text(encoding="utf-8"))
    mirror = plan_normalization(seed)
    assert mirror.display_t2s
    shown = apply_display(seed, mirror)
    assert "(guó)" not in shown
    assert "國" not in shown
    assert apply_plan(shown, mirror) == apply_plan(seed, mirror)
