"""Who a message from another platform may say it comes from.

``POST /acc`` is open to any platform, and a FIPA message names its own sender: nothing but
this check stops a poster from writing ``:sender echo`` and having the message taken as one of
our own agents' (an agent that trusts its senders acts on it; ``echo`` answering ``echo`` made a
loop of a thousand messages from one POST). So a message that arrives over the MTP must come
from, and send its answers (``reply-to``) to, agents of other platforms: a name that means one
of ours is refused, in each of the forms the router would take as ours:

- a bare name (``echo``, ``df``): inside Caxton that is a local agent;
- ``NAME@<platform_name>``, the platform part compared case-insensitively as the router does
  (``echo@caxton``, ``DF@Caxton``, ``ams@caxton``), whether or not such an agent exists;
- any name whose transport address is this platform's own ``/acc`` (answers would come back
  here).
"""

from __future__ import annotations

from caxton.codecs.mtp import local_name
from caxton.domain.acl import AclMessage
from caxton.domain.platforms import url_key


def impersonation(msg: AclMessage, *, platform: str, acc_url: str) -> str | None:
    """Why ``msg``, received from another platform, claims an agent of this one, or None."""
    own = url_key(acc_url) if acc_url else None
    for field, names in (("sender", (msg.sender,)), ("reply-to", msg.reply_to)):
        for name in names:
            if "@" not in name:
                return (f"{field} {name!r} is a local name; a message from another platform "
                        "names its agents NAME@PLATFORM")
            if local_name(name, (platform,)) is not None:
                return (f"{field} {name!r} is an agent of this platform ({platform}); a message "
                        "from another platform cannot come from one of ours")
            if own is not None and any(url_key(u) == own for u in msg.addresses.get(name, ())):
                return (f"{field} {name!r} gives this platform's own /acc as its address; a "
                        "message from another platform cannot come from here")
    return None
