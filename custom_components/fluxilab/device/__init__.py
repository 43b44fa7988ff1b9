"""The device layer: each adopted device's runtime state and its transports.

``runtime.py`` is a FluxiLab device over signed MQTT, ``fabomatic.py`` the board
transport of a device adopted as a Fab-O-Matic board, ``broker.py`` the bridge
configuration of the lab's broker. Nothing here imports the access engine: a device
reaches it only through the ports ``runtime.AccessPort`` and ``fabomatic.BoardHandler``,
which ``__init__.py`` hands in when it wires an entry.
"""
