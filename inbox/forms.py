"""Forms of the browser inbox: they validate input; the services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from inbox.models import Conversation, Member, QuickReply

STATUS_WAITING = "waiting"
STATUS_OPEN = "open"
STATUS_CLOSED = "closed"
STATUS_ALL = "all"
ASSIGNEE_ANY = "any"
ASSIGNEE_ME = "me"
ASSIGNEE_UNASSIGNED = "unassigned"


class ConversationFilterForm(forms.Form):
    """The list's GET filters; choices are limited to the member's own shop."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            (STATUS_OPEN, _("Terbuka")),
            (STATUS_WAITING, _("Menunggu balasan")),
            (STATUS_CLOSED, _("Selesai")),
            (STATUS_ALL, _("Semua")),
        ],
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    assignee = forms.ChoiceField(label=_("Ditangani"), required=False)

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shop = member.shop
        channel_field: Any = self.fields["channel"]
        channel_field.choices = [("", _("Semua channel"))] + [
            (str(c.pk), f"{c.get_platform_display()} · {c.name}") for c in shop.channels.order_by("platform", "name")
        ]
        assignee_field: Any = self.fields["assignee"]
        assignee_field.choices = [
            (ASSIGNEE_ANY, _("Siapa saja")),
            (ASSIGNEE_ME, _("Saya")),
            (ASSIGNEE_UNASSIGNED, _("Belum ditugaskan")),
        ] + [(str(m.pk), m.display_name) for m in shop.members.select_related("user").order_by("pk")]

    def cleaned(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            "status": data.get("status") or STATUS_OPEN,
            "channel": data.get("channel") or "",
            "assignee": data.get("assignee") or ASSIGNEE_ANY,
        }


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Balasan"),
        max_length=4096,
        strip=True,
        error_messages={"required": _("Balasan tidak boleh kosong.")},
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Ditangani oleh"), queryset=Member.objects.none(), required=False, empty_label=_("Belum ditugaskan")
    )

    def __init__(self, *args: Any, member: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["assignee"]
        field.queryset = Member.objects.filter(shop_id=member.shop_id).select_related("user")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Conversation.Status.choices)


class QuickReplyForm(forms.ModelForm):
    class Meta:
        model = QuickReply
        fields = ["shortcut", "text", "position"]
        labels = {"shortcut": _("Pintasan"), "text": _("Teks"), "position": _("Urutan")}
        help_texts = {
            "shortcut": _("Huruf kecil, angka, tanda hubung; ketik /pintasan di kotak balasan."),
            "text": _("{nama} diganti dengan nama pelanggan."),
        }
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def validate_unique(self) -> None:
        # The service checks the shop's shortcuts; the form has no shop to check against.
        return
