"""The browser inbox (included at "" by config/urls.py).

Not namespaced: settings.LOGIN_URL and LOGOUT_REDIRECT_URL name the plain "login" route.
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from inbox import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.inbox_index, name="inbox-index"),
    path("c/<int:pk>/", views.conversation_detail, name="inbox-conversation"),
    path("c/<int:pk>/row/", views.conversation_row, name="inbox-conversation-row"),
    path("c/<int:pk>/header/", views.conversation_header, name="inbox-conversation-header"),
    path("c/<int:pk>/reply/", views.reply_create, name="inbox-reply"),
    path("c/<int:pk>/assign/", views.conversation_assign_view, name="inbox-conversation-assign"),
    path("c/<int:pk>/status/", views.conversation_status_view, name="inbox-conversation-status"),
    path("m/<int:pk>/bubble/", views.message_bubble, name="inbox-message-bubble"),
    path("m/<int:pk>/retry/", views.message_retry, name="inbox-message-retry"),
    path("m/<int:pk>/react/", views.message_react, name="inbox-message-react"),
    path("quick-replies/", views.quick_reply_list, name="inbox-quick-replies"),
    path("quick-replies/<int:pk>/", views.quick_reply_edit, name="inbox-quick-reply-edit"),
    path("quick-replies/<int:pk>/delete/", views.quick_reply_remove, name="inbox-quick-reply-delete"),
]
