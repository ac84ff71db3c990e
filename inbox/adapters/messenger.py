"""Facebook Messenger (`object: "page"`): webhooks and `/{page_id}/messages`.

The account id is the Page id (`entry[].id`). Echoes (`message_echoes` subscription) carry the
`app_id` of the app that sent them: ours is a reply Balas sent; any other (Page Inbox, Business
Suite, the Pages app, another tool) is a human reply typed outside Balas. Meta documents no
marker that tells a Page's automated responses apart from those human replies, so no echo is
classed as `auto` here.
"""

from __future__ import annotations

from typing import Any

from inbox.adapters.base import OutboundContext, Profile
from inbox.adapters.meta_messaging import MetaMessagingAdapter


class MessengerAdapter(MetaMessagingAdapter):
    platform = "messenger"
    # app_id tells our own Send API echoes from replies typed in Meta's tools.
    required_secrets = ("app_secret", "verify_token", "access_token", "app_id")
    max_text_length = 2000
    object_name = "page"
    api_base_setting = "MESSENGER_API_BASE"
    echo_label = "Facebook Page"
    # The Messenger User Profile API (a PSID, with the Page's token).
    profile_fields = "first_name,last_name,profile_pic"

    def send_body(self, ctx: OutboundContext) -> dict[str, Any]:
        # RESPONSE: an answer to the customer's message, allowed inside the 24-hour window.
        return {
            "recipient": {"id": ctx.contact_external_id},
            "messaging_type": "RESPONSE",
            "message": {"text": ctx.text},
        }

    def profile_from(self, answer: dict[str, Any]) -> Profile:
        parts = [answer.get(key) for key in ("first_name", "last_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
        picture = answer.get("profile_pic")
        return Profile(name=name, avatar_url=picture if isinstance(picture, str) else "")
