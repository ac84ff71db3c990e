"""factory_boy factories; channels use the account ids of the sample payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import factory
from django.contrib.auth import get_user_model

from inbox.models import Channel, Contact, Conversation, Member, Message, Shop
from inbox.tokens import token_generate

SAMPLE_ACCOUNT_IDS = {
    "whatsapp": "110223344556601",
    "instagram": "17841400000000001",
    "messenger": "102938475610001",
    "shopee": "880123456",
    "tiktokshop": "7495000000000000001",
}

SAMPLE_SECRETS: dict[str, dict[str, Any]] = {
    "whatsapp": {"app_secret": "wa-app-secret", "verify_token": "wa-verify", "access_token": "wa-token"},
    "instagram": {"app_secret": "ig-app-secret", "verify_token": "ig-verify", "access_token": "ig-token"},
    "messenger": {
        "app_secret": "fb-app-secret",
        "verify_token": "fb-verify",
        "access_token": "fb-token",
        "app_id": "990000000000042",
    },
    "shopee": {
        "partner_id": "2001234",
        "partner_key": "shopee-partner-key",
        "access_token": "shopee-token",
        "callback_url": "https://balas.example.com/webhooks/shopee/",
    },
    "tiktokshop": {
        "app_key": "tts-app-key",
        "app_secret": "tts-app-secret",
        "access_token": "tts-token",
        "shop_cipher": "ROW_TEST_CIPHER",
    },
}

T0 = datetime(2026, 3, 2, 3, 15, tzinfo=UTC)


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    name = factory.Sequence(lambda n: f"Toko {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.django.Password("S3cret!pass")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    shop = factory.SubFactory(ShopFactory)
    user = factory.SubFactory(UserFactory)
    role = Member.Role.ADMIN

    @factory.post_generation
    def token(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        raw, digest = token_generate("bm")
        self.token_hash = digest
        self.api_token = raw
        if create:
            self.save(update_fields=["token_hash"])


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    shop = factory.SubFactory(ShopFactory)
    platform = "whatsapp"
    name = factory.LazyAttribute(lambda o: f"{o.platform} channel")
    account_id = factory.LazyAttribute(lambda o: SAMPLE_ACCOUNT_IDS.get(o.platform, "acct"))
    secrets = factory.LazyAttribute(lambda o: dict(SAMPLE_SECRETS.get(o.platform, {})))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    channel = factory.SubFactory(ChannelFactory)
    shop = factory.SelfAttribute("channel.shop")
    external_id = factory.Sequence(lambda n: f"62812000{n:05d}")
    name = factory.Faker("name", locale="id_ID")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)
    channel = factory.SelfAttribute("contact.channel")
    shop = factory.SelfAttribute("contact.shop")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    channel = factory.SelfAttribute("conversation.channel")
    shop = factory.SelfAttribute("conversation.shop")
    platform_message_id = factory.Sequence(lambda n: f"msg-{n}")
    direction = "in"
    source = "customer"
    text = "Kak, ready?"
    sent_at = T0
