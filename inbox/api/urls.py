from django.urls import path

from inbox.api import (
    schema,  # noqa: F401 - registers the token auth scheme with drf-spectacular
    views,
)

urlpatterns = [
    path("channels/", views.ChannelListCreateView.as_view(), name="api-channel-list"),
    path("channels/<int:pk>/messages/", views.ChannelMessagePushView.as_view(), name="api-channel-messages"),
    path("conversations/", views.ConversationListView.as_view(), name="api-conversation-list"),
    path("conversations/<int:pk>/", views.ConversationDetailView.as_view(), name="api-conversation-detail"),
    path("conversations/<int:pk>/read/", views.ConversationReadView.as_view(), name="api-conversation-read"),
    path(
        "conversations/<int:pk>/messages/", views.ConversationMessagesView.as_view(), name="api-conversation-messages"
    ),
    path(
        "conversations/<int:pk>/messages/<int:message_id>/reactions/",
        views.MessageReactionView.as_view(),
        name="api-message-reactions",
    ),
    path("conversations/<int:pk>/replies/", views.ConversationReplyView.as_view(), name="api-conversation-replies"),
    path("messages/<int:pk>/retry/", views.MessageRetryView.as_view(), name="api-message-retry"),
]
