"""The pub/sub port: in-process for one server, Redis for many."""

from hashigo.pubsub.factory import open_pubsub
from hashigo.pubsub.protocol import Message, PubSub, PubSubError, Subscription

__all__ = ["Message", "PubSub", "PubSubError", "Subscription", "open_pubsub"]
