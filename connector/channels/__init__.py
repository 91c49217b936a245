"""kravsync's own delivery channels (``providers.base.MessageChannel`` implementations)."""

from connector.channels.email import (
    ChannelError,
    ChannelRejected,
    ChannelUnavailable,
    SmtpChannel,
    password_for,
)

__all__ = ["ChannelError", "ChannelRejected", "ChannelUnavailable", "SmtpChannel", "password_for"]
