"""Asides inside the body container: picture captions and follow-us promotions (issue 14, class 3).

Large portals put a caption under every picture (`▲…`, `资料图：…`) and close the
article with a promotion (`香港新浪新闻现已开设Facebook专页…`, `扫码关注…公众号`). Neither is the
article's text. Captions go only when the body has enough other text: a photo story whose text
is its captions keeps them. Judged on normalized lines (simplified, width-folded).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: A picture caption by its marker in front (`▲`, `图：`, `资料图：`, `图/张三`). `图为…` and a trailing
#: `（张三 摄）` are not enough: photo stories and many annotated pages count those captions as text.
CAPTION_RE = re.compile(r"^(?:[▲△▼]|(?:资料|上|下|左|右|组)?图(?:片)?\s*[:：]|图\s*[/／]\s*\S{2,12}$)")
#: A follow-us or download promotion (checked on the last lines of the body only).
PROMO_RE = re.compile(
    r"现已开设.{0,30}(?:专页|账号|帐号|公众号)"
    r"|(?:扫码|扫描二维码|长按二维码|欢迎)\s*(?:关注|订阅|下载).{0,30}(?:公众号|微信|微博|客户端|APP|专页)"
    r"|(?:下载|打开).{0,12}客户端.{0,12}(?:阅读|查看|获取)",
    re.IGNORECASE,
)
#: Captions are removed only from bodies that keep at least this many characters without them.
MIN_TEXT_WITHOUT_CAPTIONS = 100
#: Lines longer than this are paragraphs, never captions.
MAX_CAPTION_CHARS = 150
#: How many last lines are checked for promotions.
PROMO_TAIL = 3


def drop_asides(lines: Sequence[str]) -> list[int]:
    """Indices of `lines` to keep: without captions (when enough text remains) and closing promotions."""
    keep = list(range(len(lines)))
    tail = keep[-PROMO_TAIL:]
    keep = [i for i in keep if not (i in tail and PROMO_RE.search(lines[i]))]
    captions = {i for i in keep if len(lines[i]) <= MAX_CAPTION_CHARS and CAPTION_RE.search(lines[i])}
    if captions and sum(len(lines[i]) for i in keep if i not in captions) >= MIN_TEXT_WITHOUT_CAPTIONS:
        keep = [i for i in keep if i not in captions]
    return keep
