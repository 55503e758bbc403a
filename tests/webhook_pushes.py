"""Generated WeChat pushes for the webhook's fuzz tests: in process (tests/channels/test_webhook_fuzz.py)
and through the balancer of the scaled layout (tests/e2e/test_scaled.py). Only hypothesis is imported,
so both environments can use it."""

from __future__ import annotations

from hypothesis import strategies as st

TEXTS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


def element(name: str, value: str) -> str:
    # CDATA as the platform writes it; a "]]>" inside is split the way XML requires.
    return f"<{name}><![CDATA[{value.replace(']]>', ']]]]><![CDATA[>')}]]></{name}>"


@st.composite
def pushes(draw: st.DrawFn, create_time: int) -> bytes:
    """A push that looks like the platform's, with any field missing, odd or hostile."""
    kind = draw(st.sampled_from(["text", "voice", "image", "event", "location", "video", "", "TEXT"]))
    fields = {
        "ToUserName": "gh_account",
        "FromUserName": draw(st.text(min_size=0, max_size=40)),
        "CreateTime": str(create_time),
        "MsgType": kind,
        "Content": draw(TEXTS),
        "MsgId": str(draw(st.integers(min_value=0, max_value=2**70))),
        "Event": draw(st.sampled_from(["subscribe", "CLICK", "unsubscribe", "", "VIEW"])),
        "EventKey": draw(TEXTS),
        "Recognition": draw(TEXTS),
    }
    kept = draw(st.lists(st.sampled_from(list(fields)), unique=True, max_size=len(fields)))
    inner = "".join(element(name, fields[name]) for name in kept)
    return f"<xml>{inner}</xml>".encode("utf-8", "surrogatepass")
