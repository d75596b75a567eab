"""The gRPC management API: protos in protos/caxton/v1, code in ``_generated``.

``server`` and ``handlers`` are the server side (over ``caxton.api.service``); ``convert`` and
``status`` are shared with the client (``caxton.client``), which is why this package imports
nothing itself: a client must not load the server to talk to one.
"""
