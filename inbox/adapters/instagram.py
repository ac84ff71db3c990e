"""Instagram messaging (`object: "instagram"`): webhooks and `/{ig_id}/messages`.

The account id is the IG professional account id (`entry[].id`). Replies typed in the
Instagram app come back as echoes in the same `messages` subscription; our own Send API replies
come back too and are matched by mid (and by `app_id` when the channel has one configured).
"""

from __future__ import annotations

from typing import Any

from inbox.adapters.base import Profile
from inbox.adapters.meta_messaging import MetaMessagingAdapter


class InstagramAdapter(MetaMessagingAdapter):
    platform = "instagram"
    required_secrets = ("app_secret", "verify_token", "access_token")
    max_text_length = 1000
    object_name = "instagram"
    api_base_setting = "INSTAGRAM_API_BASE"
    echo_label = "Instagram"
    # The Instagram User Profile API (an IGSID): `name` may be empty, the username never is.
    profile_fields = "name,username,profile_pic"

    def profile_from(self, answer: dict[str, Any]) -> Profile:
        name = answer.get("name")
        username = answer.get("username")
        if not (isinstance(name, str) and name.strip()):
            name = f"@{username.strip()}" if isinstance(username, str) and username.strip() else ""
        picture = answer.get("profile_pic")
        return Profile(name=name.strip(), avatar_url=picture if isinstance(picture, str) else "")
